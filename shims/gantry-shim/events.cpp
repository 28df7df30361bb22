#include "shims/gantry-shim/events.hpp"

#include "shims/gantry-shim/util.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>

namespace gantry::shim {

namespace {
constexpr int kMaxAttempts = 5;
constexpr int64_t kForwardTimeout = 5'000'000'000; // 5 s, as the runc shim
} // namespace

static std::string stripUnix(std::string a) {
    if (a.rfind("unix://", 0) == 0) a.erase(0, 7);
    return a;
}

Publisher::Publisher(Loop& loop, std::string address, std::string ns)
    : loop_(loop), ns_(std::move(ns)), client_(loop, stripUnix(address)),
      enabled_(!address.empty()),
      timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
    loop_.add(timer_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t ticks = 0;
        ssize_t ignored = ::read(timer_.get(), &ticks, sizeof ticks);
        (void)ignored;
        sendNext();
    });
}

Publisher::~Publisher() {
    loop_.remove(timer_.get());
}

void Publisher::publish(std::string_view topic, std::string_view type, std::string event) {
    if (!enabled_) return;
    pb::Writer env;
    env.msg(1, timestamp(wallNow()));
    env.str(2, ns_);
    env.str(3, topic);
    env.msg(4, any("containerd.events." + std::string(type), event));
    pb::Writer req;
    req.msg(1, env);
    queue_.push_back({req.take(), 0});
    if (!inFlight_) sendNext();
}

void Publisher::sendNext() {
    if (inFlight_) return;
    if (queue_.empty()) {
        if (onIdle_) onIdle_();
        return;
    }
    inFlight_ = true;
    client_.call("containerd.services.events.ttrpc.v1.Events", "Forward", queue_.front().request,
                 kForwardTimeout, {{"containerd-namespace-ttrpc", ns_}},
                 [this](const ttrpc::Status& st, std::string_view) {
                     inFlight_ = false;
                     if (st.ok() || ++queue_.front().attempts >= kMaxAttempts) {
                         if (!st.ok()) logLine("error", "dropping event: " + st.message);
                         queue_.pop_front();
                         sendNext();
                         return;
                     }
                     logLine("warning", "forwarding event failed, will retry: " + st.message);
                     retryLater();
                 });
}

void Publisher::retryLater() {
    itimerspec its{};
    its.it_value.tv_sec = queue_.front().attempts; // 1 s, 2 s, ...
    ::timerfd_settime(timer_.get(), 0, &its, nullptr);
}

} // namespace gantry::shim
