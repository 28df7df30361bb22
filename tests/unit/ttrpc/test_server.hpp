// An EventLoop + Server on their own thread, on a socket in a fresh temp dir, for tests.
#pragma once

#include "core/ttrpc/event_loop.hpp"
#include "core/ttrpc/server.hpp"

#include <cstdlib>
#include <filesystem>
#include <future>
#include <gtest/gtest.h>
#include <string>
#include <thread>

namespace gantry::ttrpc::test {

class TestServer {
public:
    TestServer() : TestServer(Server::Options{}) {}
    explicit TestServer(Server::Options options) {
        char tmpl[] = "/tmp/gt-ttrpc-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        path_ = dir_ + "/s.ttrpc";
        auto l = EventLoop::create();
        EXPECT_TRUE(l.ok());
        loop_ = std::move(l).value();
        server_ = std::make_unique<Server>(*loop_, options);
    }
    ~TestServer() {
        stop();
        server_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    Server& server() { return *server_; }
    EventLoop& loop() { return *loop_; }
    const std::string& path() const { return path_; }
    const std::string& dir() const { return dir_; }

    // Register handlers before start(); afterwards touch the server through on_loop() only.
    void start() {
        auto st = server_->listen(path_, 0600);
        ASSERT_TRUE(st.ok()) << st.error().message();
        thread_ = std::thread([this] { (void)loop_->run(); });
    }
    // Stops the loop and destroys the server: every connection closes.
    void destroy_server() {
        stop();
        server_.reset();
    }
    void stop() {
        if (!thread_.joinable()) return;
        loop_->stop();
        thread_.join();
    }

    template <typename F>
    auto on_loop(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        loop_->post([&task] { task(); });
        return fut.get();
    }

private:
    std::string dir_;
    std::string path_;
    std::unique_ptr<EventLoop> loop_;
    std::unique_ptr<Server> server_;
    std::thread thread_;
};

} // namespace gantry::ttrpc::test
