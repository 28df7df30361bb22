// A small single-threaded epoll loop. The ttrpc server lives in one, and a shim adds its
// signalfd/pidfd watches to the same loop (DESIGN.md §7): everything runs on the thread that
// calls run(), so callbacks need no locks.
//
// Only stop() and post() may be called from other threads; they wake the loop through an
// eventfd. A callback may add or remove any watch, itself included: a removed watch receives no
// further events, not even ones already returned by the same epoll_wait.
#pragma once

#include "core/errors.hpp"
#include "core/fs/unique_fd.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace gantry::ttrpc {

class EventLoop {
public:
    using WatchId = std::uint64_t;
    // Receives the ready epoll event mask (EPOLLIN, EPOLLOUT, EPOLLHUP, ...).
    using Callback = std::function<void(std::uint32_t events)>;

    static Result<std::unique_ptr<EventLoop>> create();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Watches `fd` (not owned) for `events`; level-triggered.
    Result<WatchId> add(int fd, std::uint32_t events, Callback cb);
    Status modify(WatchId id, std::uint32_t events);
    void remove(WatchId id);

    // Waits up to timeout_ms (-1: no limit) and runs the callbacks of one batch of ready fds
    // and every posted function.
    Status run_once(int timeout_ms);
    // Runs until stop(). A stop() before run() makes run() return at once.
    Status run();
    // Thread-safe.
    void stop();
    // Thread-safe: runs fn on the loop thread at its next iteration.
    void post(std::function<void()> fn);

private:
    struct Watch {
        int fd;
        Callback cb;
    };
    EventLoop(fs::UniqueFd epfd, fs::UniqueFd wakefd);
    void drain_posted();

    fs::UniqueFd epfd_;
    fs::UniqueFd wakefd_;
    WatchId next_id_ = 1;
    std::unordered_map<WatchId, std::shared_ptr<Watch>> watches_;
    std::atomic<bool> stop_{false};
    std::mutex post_mu_;
    std::vector<std::function<void()>> posted_;
};

} // namespace gantry::ttrpc
