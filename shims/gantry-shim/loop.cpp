#include "shims/gantry-shim/loop.hpp"

#include <cerrno>
#include <sys/epoll.h>

namespace gantry::shim {

Loop::Loop() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {}

bool Loop::add(int fd, uint32_t events, Callback cb) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return false;
    callbacks_[fd] = std::move(cb);
    return true;
}

bool Loop::modify(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    return ::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Loop::remove(int fd) {
    ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
    callbacks_.erase(fd);
}

void Loop::run() {
    running_ = true;
    epoll_event events[16];
    while (running_) {
        int n = ::epoll_wait(ep_.get(), events, 16, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < n && running_; ++i) {
            auto it = callbacks_.find(events[i].data.fd);
            if (it == callbacks_.end()) continue; // removed earlier in this round
            // Copy: the callback may remove itself (and so destroy the stored function).
            Callback cb = it->second;
            cb(events[i].events);
        }
    }
}

} // namespace gantry::shim
