// Our client against our server, in one process: multiplexing, limits, errors, disconnects,
// deadlines, and raw frames a well-behaved client would never send.
#include "core/ttrpc/client.hpp"
#include "core/ttrpc/frame.hpp"
#include "core/ttrpc/socket.hpp"
#include "tests/unit/ttrpc/test_server.hpp"
#include "ttrpc/ttrpc.pb.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace gantry::ttrpc {
namespace {

using namespace std::chrono_literals;
constexpr std::string_view kSvc = "gantry.test.v1.Test";

class TtrpcTest : public ::testing::Test {
protected:
    void SetUp() override {
        srv.server().register_method(
            kSvc, "Echo", [](std::string_view payload, const CallContext&) -> Result<std::string> {
                return std::string(payload);
            });
        srv.server().register_method(
            kSvc, "Namespace", [](std::string_view, const CallContext& ctx) -> Result<std::string> {
                auto ns = ctx.ns();
                if (!ns) return failed_precondition("namespace is required");
                std::string out(*ns);
                for (const auto& [k, v] : ctx.metadata)
                    out += "|" + k + "=" + v;
                return out;
            });
        srv.server().register_method(
            kSvc, "Fail", [](std::string_view payload, const CallContext&) -> Result<std::string> {
                return not_found("thing " + std::string(payload));
            });
        srv.server().register_method(
            kSvc, "Deadline", [](std::string_view, const CallContext& ctx) -> Result<std::string> {
                if (!ctx.deadline) return std::string("none");
                auto left = *ctx.deadline - std::chrono::steady_clock::now();
                return std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
            });
        // Never answers until release_parked() runs on the loop.
        srv.server().register_async(kSvc, "Park",
                                    [this](std::string_view, const CallContext&, Responder r) {
                                        parked.push_back(std::move(r));
                                    });
        // Holds replies until `gather_n` calls arrived, then answers them in reverse order.
        srv.server().register_async(
            kSvc, "Gather", [this](std::string_view payload, const CallContext&, Responder r) {
                gathered.emplace_back(std::string(payload), std::move(r));
                if (gathered.size() < gather_n) return;
                for (auto it = gathered.rbegin(); it != gathered.rend(); ++it)
                    it->second.reply("re:" + it->first);
                gathered.clear();
            });
        srv.start();
    }

    std::unique_ptr<Client> connect() {
        auto c = Client::connect("unix://" + srv.path());
        EXPECT_TRUE(c.ok()) << c.error().message();
        return std::move(c).value();
    }

    std::size_t connections() {
        return srv.on_loop([this] { return srv.server().connection_count(); });
    }
    bool wait_connections(std::size_t n) {
        for (int i = 0; i < 200; ++i) {
            if (connections() == n) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    // Raw socket helpers for frames our client refuses to produce.
    static fs::UniqueFd raw_connect(const std::string& path) {
        auto fd = dial_unix(path);
        EXPECT_TRUE(fd.ok());
        return std::move(fd).value();
    }
    static void raw_send(int fd, const std::string& bytes) {
        std::size_t off = 0;
        while (off < bytes.size()) {
            ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
            ASSERT_GT(n, 0);
            off += static_cast<std::size_t>(n);
        }
    }
    static std::optional<Frame> raw_recv(int fd) {
        FrameDecoder dec;
        char buf[4096];
        for (;;) {
            if (auto f = dec.next()) return f;
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return std::nullopt;
            dec.feed(buf, static_cast<std::size_t>(n));
        }
    }
    static std::string request(std::string_view method, std::string_view payload = "") {
        ::ttrpc::Request r;
        r.set_service(std::string(kSvc));
        r.set_method(std::string(method));
        r.set_payload(std::string(payload));
        return r.SerializeAsString();
    }

    test::TestServer srv;
    std::vector<Responder> parked; // loop thread only
    std::vector<std::pair<std::string, Responder>> gathered;
    std::size_t gather_n = 100;
};

TEST_F(TtrpcTest, EchoAndMetadata) {
    auto c = connect();
    auto r = c->call(kSvc, "Echo", "hello");
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, "hello");
    auto empty = c->call(kSvc, "Echo", "");
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(*empty, "");

    CallOptions opts;
    opts.with_namespace("ns1");
    opts.metadata.emplace_back("X-Extra", "a");
    opts.metadata.emplace_back("x-extra", "b");
    auto ns = c->call(kSvc, "Namespace", "", opts);
    ASSERT_TRUE(ns.ok()) << ns.error().message();
    // Keys go out lower-case, repeated keys stay.
    EXPECT_EQ(*ns, "ns1|containerd-namespace-ttrpc=ns1|x-extra=a|x-extra=b");
    auto none = c->call(kSvc, "Namespace", "");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code(), Errc::FailedPrecondition);
}

TEST_F(TtrpcTest, HundredParallelCallsOnOneConnectionCompleteOutOfOrder) {
    auto c = connect();
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    std::vector<std::string> errors(gather_n);
    for (std::size_t i = 0; i < gather_n; ++i) {
        threads.emplace_back([&, i] {
            auto r = c->call(kSvc, "Gather", "call-" + std::to_string(i),
                             CallOptions{}.with_timeout(20s));
            if (r.ok() && *r == "re:call-" + std::to_string(i))
                ++good;
            else
                errors[i] = r.ok() ? *r : r.error().message();
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(good.load(), static_cast<int>(gather_n));
    for (const auto& e : errors)
        EXPECT_EQ(e, "");
    EXPECT_EQ(connections(), 1u);
}

TEST_F(TtrpcTest, ManyClientsPipelining) {
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            auto c = connect();
            for (int i = 0; i < 200; ++i) {
                std::string p = std::to_string(t) + ":" + std::to_string(i);
                auto r = c->call(kSvc, "Echo", p);
                if (r.ok() && *r == p) ++good;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(good.load(), 8 * 200);
}

TEST_F(TtrpcTest, PayloadsNearTheLimitRoundTrip) {
    auto c = connect();
    // Request body = payload + service/method framing (< 64 bytes); response = payload + 5.
    std::string payload(kMaxMessageSize - 64, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<char>(i * 131);
    auto r = c->call(kSvc, "Echo", payload);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(*r == payload);
}

TEST_F(TtrpcTest, OversizedRequestIsRefusedByTheClient) {
    auto c = connect();
    auto r = c->call(kSvc, "Echo", std::string(kMaxMessageSize, 'x'));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::ResourceExhausted);
    EXPECT_NE(r.error().message().find("exceed maximum message size of 4194304"),
              std::string::npos);
    // The connection is still fine.
    EXPECT_TRUE(c->call(kSvc, "Echo", "x").ok());
}

TEST_F(TtrpcTest, OversizedFrameGetsResourceExhaustedAndConnectionSurvives) {
    auto fd = raw_connect(srv.path());
    std::string body(kMaxMessageSize + 100, 'q');
    raw_send(fd.get(), encode_frame(5, MessageType::Request, body));
    auto f = raw_recv(fd.get());
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->header.stream_id, 5u);
    EXPECT_EQ(f->header.type, 2);
    ::ttrpc::Response resp;
    ASSERT_TRUE(resp.ParseFromString(f->body));
    EXPECT_EQ(resp.status().code(), static_cast<int>(Errc::ResourceExhausted));
    EXPECT_NE(resp.status().message().find("message length 4194404 exceed maximum message size"),
              std::string::npos)
        << resp.status().message();
    raw_send(fd.get(), encode_frame(7, MessageType::Request, request("Echo", "after")));
    f = raw_recv(fd.get());
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->header.stream_id, 7u);
    ASSERT_TRUE(resp.ParseFromString(f->body));
    EXPECT_FALSE(resp.has_status());
    EXPECT_EQ(resp.payload(), "after");
}

TEST_F(TtrpcTest, UnknownServiceAndMethodAreUnimplemented) {
    auto c = connect();
    auto s = c->call("no.such.Service", "Echo", "");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), Errc::NotImplemented);
    EXPECT_EQ(s.error().message(), "service no.such.Service"); // ttrpc's exact text
    auto m = c->call(kSvc, "Nope", "");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code(), Errc::NotImplemented);
    EXPECT_EQ(m.error().message(), "method Nope");
}

TEST_F(TtrpcTest, HandlerErrorStatusRoundTrips) {
    auto c = connect();
    auto r = c->call(kSvc, "Fail", "x");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::NotFound);
    EXPECT_EQ(r.error().message(), "thing x: not found");
}

TEST_F(TtrpcTest, EvenStreamAndBadRequestAndNonRequestFrames) {
    auto fd = raw_connect(srv.path());
    // A response frame sent to a server is ignored; the next request is answered.
    raw_send(fd.get(), encode_frame(1, MessageType::Response, "junk"));
    raw_send(fd.get(), encode_frame(2, MessageType::Request, request("Echo", "x")));
    auto f = raw_recv(fd.get());
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->header.stream_id, 2u);
    ::ttrpc::Response resp;
    ASSERT_TRUE(resp.ParseFromString(f->body));
    EXPECT_EQ(resp.status().code(), static_cast<int>(Errc::InvalidArgument));
    EXPECT_EQ(resp.status().message(), "StreamID must be odd for client initiated streams");
    raw_send(fd.get(), encode_frame(3, MessageType::Request, std::string("\xff\xff\xff", 3)));
    f = raw_recv(fd.get());
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE(resp.ParseFromString(f->body));
    EXPECT_EQ(resp.status().code(), static_cast<int>(Errc::InvalidArgument));
}

TEST_F(TtrpcTest, DeadlineIsSentAndEnforced) {
    auto c = connect();
    auto d = c->call(kSvc, "Deadline", "", CallOptions{}.with_timeout(5s));
    ASSERT_TRUE(d.ok());
    int left = std::stoi(*d);
    EXPECT_GT(left, 4000);
    EXPECT_LE(left, 5000);
    auto none = c->call(kSvc, "Deadline", "");
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, "none");

    auto t0 = std::chrono::steady_clock::now();
    auto r = c->call(kSvc, "Park", "", CallOptions{}.with_timeout(200ms));
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::DeadlineExceeded);
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 3s);
    // The late reply is dropped and the connection keeps working.
    srv.on_loop([this] {
        for (auto& p : parked)
            p.reply(std::string("late"));
        parked.clear();
        return 0;
    });
    auto e = c->call(kSvc, "Echo", "still");
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(*e, "still");
}

TEST_F(TtrpcTest, ClientDisconnectMidCall) {
    auto c = connect();
    std::optional<Result<std::string>> got;
    std::thread t([&] { got = c->call(kSvc, "Park", ""); });
    for (int i = 0; i < 200 && srv.on_loop([this] { return parked.size(); }) == 0; ++i)
        std::this_thread::sleep_for(5ms);
    ASSERT_EQ(srv.on_loop([this] { return parked.size(); }), 1u);
    c->close();
    t.join();
    ASSERT_TRUE(got.has_value());
    ASSERT_FALSE(got->ok());
    EXPECT_EQ(got->error().code(), Errc::Unavailable);
    EXPECT_EQ(got->error().message(), "ttrpc: closed");
    // Later calls fail at once.
    auto later = c->call(kSvc, "Echo", "x");
    ASSERT_FALSE(later.ok());
    EXPECT_EQ(later.error().code(), Errc::Unavailable);
    // The server drops the connection; replying to it afterwards is harmless.
    EXPECT_TRUE(wait_connections(0));
    srv.on_loop([this] {
        for (auto& p : parked)
            p.reply(std::string("nobody listens"));
        parked.clear();
        return 0;
    });
    auto c2 = connect();
    EXPECT_TRUE(c2->call(kSvc, "Echo", "x").ok());
}

TEST_F(TtrpcTest, ServerGoneFailsPendingCallsUnavailable) {
    auto c = connect();
    std::optional<Result<std::string>> got;
    std::thread t([&] { got = c->call(kSvc, "Park", ""); });
    for (int i = 0; i < 200 && srv.on_loop([this] { return parked.size(); }) == 0; ++i)
        std::this_thread::sleep_for(5ms);
    srv.destroy_server();
    // Responders that outlive their server answer nobody.
    parked.clear();
    t.join();
    ASSERT_TRUE(got.has_value());
    ASSERT_FALSE(got->ok());
    EXPECT_EQ(got->error().code(), Errc::Unavailable);
}

TEST_F(TtrpcTest, DroppedResponderAnswersUnknown) {
    srv.on_loop([this] {
        srv.server().register_async(kSvc, "Drop",
                                    [](std::string_view, const CallContext&, Responder) {});
        return 0;
    });
    auto c = connect();
    auto r = c->call(kSvc, "Drop", "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::Unknown);
}

TEST_F(TtrpcTest, ConnectToNothingIsUnavailable) {
    auto c = Client::connect(srv.dir() + "/nothing.sock");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), Errc::Unavailable);
    auto bad = Client::connect("tcp://127.0.0.1:1");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code(), Errc::InvalidArgument);
}

// A client that pipelines requests but never reads its replies is cut off once they pile up
// past max_write_backlog; the server keeps serving others.
TEST(TtrpcSlowReader, IsDisconnected) {
    Server::Options o;
    o.max_write_backlog = 1u << 20;
    test::TestServer srv(o);
    srv.server().register_method(kSvc, "Big",
                                 [](std::string_view, const CallContext&) -> Result<std::string> {
                                     return std::string(512u << 10, 'b');
                                 });
    srv.start();
    auto fd = dial_unix(srv.path());
    ASSERT_TRUE(fd.ok());
    ::ttrpc::Request r;
    r.set_service(std::string(kSvc));
    r.set_method("Big");
    std::string body = r.SerializeAsString();
    std::string all;
    for (std::uint32_t i = 0; i < 64; ++i)
        all += encode_frame(2 * i + 1, MessageType::Request, body);
    ASSERT_EQ(::send(fd->get(), all.data(), all.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(all.size()));
    bool gone = false;
    for (int i = 0; i < 300 && !gone; ++i) {
        gone = srv.on_loop([&] { return srv.server().connection_count(); }) == 0;
        if (!gone) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(gone) << "slow reader still connected";
    // Reading now drains what was sent before the cut, then EOF.
    char buf[65536];
    ssize_t n;
    std::size_t total = 0;
    while ((n = ::recv(fd->get(), buf, sizeof buf, 0)) > 0)
        total += static_cast<std::size_t>(n);
    EXPECT_EQ(n, 0);
    EXPECT_LT(total, 64u * (512u << 10));
    auto c = Client::connect(srv.path());
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE((*c)->call(kSvc, "Big", "").ok());
}

// ttrpc's same-user handshake: a peer with another uid/gid is dropped before any request.
TEST(TtrpcPeer, OtherUserIsRefused) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
    test::TestServer srv;
    srv.server().register_method(kSvc, "Echo",
                                 [](std::string_view p, const CallContext&) -> Result<std::string> {
                                     return std::string(p);
                                 });
    srv.start();
    ASSERT_EQ(::chmod(srv.path().c_str(), 0666), 0);
    ASSERT_EQ(::chmod(srv.dir().c_str(), 0755), 0);
    ::ttrpc::Request r;
    r.set_service(std::string(kSvc));
    r.set_method("Echo");
    r.set_payload("hi");
    const std::string frame = encode_frame(1, MessageType::Request, r.SerializeAsString());
    auto probe = [&](uid_t uid, gid_t gid) {
        pid_t pid = ::fork();
        if (pid == 0) {
            // Only raw syscalls after fork: the parent has threads.
            if (::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(10);
            int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un sa{};
            sa.sun_family = AF_UNIX;
            std::memcpy(sa.sun_path, srv.path().c_str(), srv.path().size());
            if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) ::_exit(11);
            if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) < 0) ::_exit(0); // reset
            char buf[256];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            ::_exit(n > 0 ? 1 : 0); // 1: answered, 0: refused
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    EXPECT_EQ(probe(65534, 65534), 0) << "another user was served";
    EXPECT_EQ(probe(0, 0), 1) << "the same user was refused";
}

} // namespace
} // namespace gantry::ttrpc
