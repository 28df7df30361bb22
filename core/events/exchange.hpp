// The in-process event exchange (io.containerd.event.v1.exchange, protocol-facts §2.5, §2.14):
// services publish or forward envelopes, subscribers receive the ones their filter matches.
//
// Delivery. Every subscriber has its own bounded queue (Exchange::Options::queue_limit). A
// publisher only appends to the queues of matching subscribers under a short lock, so it never
// waits for a reader. A subscriber whose queue is full when an event arrives is dropped: its
// queue is discarded and its next() reports FailedPrecondition "subscriber fell behind ...".
// Chosen over silently losing events (a reader that sees a stream end knows it must resync,
// one that misses an event in the middle cannot tell) and over blocking (containerd's
// unbounded queue trades that for unbounded memory). Other subscribers are unaffected.
//
// Filters (protocol-facts §3.5): `namespace`, `topic`, and `event.<field...>` read from the
// decoded event by protobuf reflection: the type is looked up in the generated pool by its type
// URL (the bare full proto name, §1.4); string fields by their snake_case name (present when
// non-empty), bools as "true"/"false" (always present), nested messages by further path parts,
// string maps (labels) by the joined key. An event whose type is unknown has no event fields.
//
// The plugin instance. InitContext::get_as<T> static_pointer_casts the registry's
// shared_ptr<void>, so the stored pointer must point at a T. The registration stores a
// shared_ptr<Exchange> converted to void*; Publisher is Exchange's only (hence first) base and
// Exchange adds no other polymorphic base, but rather than rely on layout the registration
// stores std::shared_ptr<Publisher>(exchange) — the Publisher subobject address — and the events
// service, which needs the full Exchange, downcasts with static_cast<Exchange*> (valid: every
// instance of this plugin is an Exchange). See services/events/register.cpp.
#pragma once

#include "core/errors.hpp"
#include "core/events/publisher.hpp"
#include "core/filters/filter.hpp"
#include "services/events/v1/events.pb.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::events {

using Envelope = containerd::services::events::v1::Envelope;

// containerd's topic rule: "/" then one or more identifiers joined by "/".
Status validate_topic(std::string_view topic);
// The envelope's fields for filters: namespace, topic, event.<...> (see above). Exposed so
// tests and other consumers (Tasks.Metrics style filters) can use the same rules.
bool envelope_matches(const filters::Filter& filter, const Envelope& envelope);

namespace detail {
struct SubscriberState;
}

class Exchange;

// One subscription. Destroying it unsubscribes. Movable, not copyable.
class Subscription {
public:
    Subscription(Subscription&&) noexcept = default;
    Subscription& operator=(Subscription&&) noexcept;
    ~Subscription();

    // Waits up to `timeout` for the next envelope. nullopt: nothing arrived in time (call
    // again). An error: the subscription ended — Canceled after close() or when the exchange is
    // gone, FailedPrecondition when this subscriber fell behind and was dropped.
    Result<std::optional<Envelope>> next(std::chrono::milliseconds timeout);
    // Ends the subscription from any thread; a blocked next() returns Canceled at once.
    void close();

private:
    friend class Exchange;
    Subscription(std::weak_ptr<Exchange> exchange, std::shared_ptr<detail::SubscriberState> s)
        : exchange_(std::move(exchange)), state_(std::move(s)) {}
    void release();

    std::weak_ptr<Exchange> exchange_;
    std::shared_ptr<detail::SubscriberState> state_;
};

class Exchange final : public Publisher, public std::enable_shared_from_this<Exchange> {
public:
    struct Options {
        // Envelopes waiting for one subscriber before it is dropped.
        std::size_t queue_limit = 4096;
    };

    // Always held by a shared_ptr: subscriptions keep a weak reference back.
    static std::shared_ptr<Exchange> create(Options options);
    static std::shared_ptr<Exchange> create() { return create(Options{}); }

    // Publisher: stamps UTC now; InvalidArgument for a bad namespace or topic.
    Status publish(std::string_view ns, std::string_view topic,
                   const google::protobuf::Message& event) override;
    // Delivers an envelope as sent. Namespace must be an identifier, the topic valid and the
    // timestamp set (not absent, not Go's zero time), else InvalidArgument.
    Status forward(Envelope envelope);

    // filters: containerd's filter strings (OR-ed); a parse error is InvalidArgument.
    Result<Subscription> subscribe(std::span<const std::string> filters);
    Subscription subscribe(filters::Filter filter);

    // Ends every subscription (Canceled); later subscriptions still work. For daemon shutdown.
    void close_all();

    std::size_t subscriber_count() const;

    explicit Exchange(Options options) : options_(options) {}

private:
    friend class Subscription;
    void deliver(const Envelope& envelope);
    void remove(const detail::SubscriberState* s);

    Options options_;
    mutable std::mutex mu_;
    std::vector<std::shared_ptr<detail::SubscriberState>> subscribers_;
};

} // namespace gantry::events
