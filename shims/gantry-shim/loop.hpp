// The shim's only thread: one epoll set dispatching readiness to callbacks.
#pragma once

#include "shims/gantry-shim/fd.hpp"

#include <cstdint>
#include <functional>
#include <map>

namespace gantry::shim {

class Loop {
public:
    using Callback = std::function<void(uint32_t events)>;

    Loop();
    bool ok() const { return ep_.valid(); }
    // Watches fd for `events` (EPOLLIN/EPOLLOUT...); the callback may add or remove any fd.
    bool add(int fd, uint32_t events, Callback cb);
    bool modify(int fd, uint32_t events);
    void remove(int fd);
    // Runs until stop(); returns after the current dispatch round.
    void run();
    void stop() { running_ = false; }

private:
    Fd ep_;
    bool running_ = false;
    // A callback removed during a dispatch round is not called again in that round.
    std::map<int, Callback> callbacks_;
};

} // namespace gantry::shim
