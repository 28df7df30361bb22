// Task events to the daemon: containerd.services.events.ttrpc.v1.Events/Forward on $TTRPC_ADDRESS,
// sent one at a time in order, each retried up to five times with growing delays (§10.4).
#pragma once

#include "shims/gantry-shim/fd.hpp"
#include "shims/gantry-shim/loop.hpp"
#include "shims/gantry-shim/ttrpc.hpp"

#include <deque>
#include <functional>
#include <string>
#include <string_view>

namespace gantry::shim {

class Publisher {
public:
    Publisher(Loop& loop, std::string address, std::string ns);
    ~Publisher();
    // `type` is the event's short name, e.g. "TaskExit" (type URL containerd.events.TaskExit).
    void publish(std::string_view topic, std::string_view type, std::string event);
    bool idle() const { return queue_.empty(); }
    // Called whenever the queue becomes empty (the shim waits for that before it exits).
    void onIdle(std::function<void()> cb) { onIdle_ = std::move(cb); }

private:
    struct Item {
        std::string request; // encoded ForwardRequest
        int attempts = 0;
    };
    void sendNext();
    void retryLater();

    Loop& loop_;
    std::string ns_;
    ttrpc::Client client_;
    bool enabled_;
    bool inFlight_ = false;
    Fd timer_;
    std::deque<Item> queue_;
    std::function<void()> onIdle_;
};

} // namespace gantry::shim
