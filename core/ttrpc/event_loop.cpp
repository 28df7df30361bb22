#include "core/ttrpc/event_loop.hpp"

#include <array>
#include <cerrno>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace gantry::ttrpc {

namespace {
constexpr EventLoop::WatchId kWakeId = 0;
} // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
    fs::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return from_errno(errno, "epoll_create1");
    fs::UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) return from_errno(errno, "eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeId;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, wake.get(), &ev) != 0)
        return from_errno(errno, "epoll_ctl");
    return std::unique_ptr<EventLoop>(new EventLoop(std::move(ep), std::move(wake)));
}

EventLoop::EventLoop(fs::UniqueFd epfd, fs::UniqueFd wakefd)
    : epfd_(std::move(epfd)), wakefd_(std::move(wakefd)) {}

EventLoop::~EventLoop() = default;

Result<EventLoop::WatchId> EventLoop::add(int fd, std::uint32_t events, Callback cb) {
    WatchId id = next_id_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
        return from_errno(errno, "epoll_ctl add");
    watches_.emplace(id, std::make_shared<Watch>(Watch{fd, std::move(cb)}));
    return id;
}

Status EventLoop::modify(WatchId id, std::uint32_t events) {
    auto it = watches_.find(id);
    if (it == watches_.end()) return not_found("event loop watch " + std::to_string(id));
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    if (::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, it->second->fd, &ev) != 0)
        return from_errno(errno, "epoll_ctl mod");
    return ok_status();
}

void EventLoop::remove(WatchId id) {
    auto it = watches_.find(id);
    if (it == watches_.end()) return;
    ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, it->second->fd, nullptr);
    watches_.erase(it);
}

Status EventLoop::run_once(int timeout_ms) {
    std::array<epoll_event, 64> evs{};
    int n = ::epoll_wait(epfd_.get(), evs.data(), static_cast<int>(evs.size()), timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return ok_status();
        return from_errno(errno, "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
        WatchId id = evs[static_cast<std::size_t>(i)].data.u64;
        if (id == kWakeId) {
            std::uint64_t v;
            while (::read(wakefd_.get(), &v, sizeof v) > 0) {
            }
            continue;
        }
        auto it = watches_.find(id);
        if (it == watches_.end()) continue; // removed by an earlier callback of this batch
        // Hold the watch: the callback may remove itself.
        std::shared_ptr<Watch> w = it->second;
        w->cb(evs[static_cast<std::size_t>(i)].events);
    }
    drain_posted();
    return ok_status();
}

void EventLoop::drain_posted() {
    std::vector<std::function<void()>> fns;
    {
        std::lock_guard lk(post_mu_);
        fns.swap(posted_);
    }
    for (auto& fn : fns)
        fn();
}

Status EventLoop::run() {
    while (!stop_.load())
        GANTRY_TRY(run_once(-1));
    return ok_status();
}

void EventLoop::stop() {
    stop_.store(true);
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakefd_.get(), &one, sizeof one);
}

void EventLoop::post(std::function<void()> fn) {
    {
        std::lock_guard lk(post_mu_);
        posted_.push_back(std::move(fn));
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakefd_.get(), &one, sizeof one);
}

} // namespace gantry::ttrpc
