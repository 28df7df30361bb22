#include "services/events/events_service.hpp"

#include "core/events/exchange.hpp"
#include "core/log.hpp"
#include "core/metadata/value_encoding.hpp"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

#include <chrono>

namespace gantry::services {

namespace evv1 = containerd::services::events::v1;

namespace {
// How often a waiting Subscribe checks whether its client went away.
constexpr std::chrono::milliseconds kCancelPoll{100};
} // namespace

EventsService::EventsService(std::shared_ptr<events::Exchange> exchange)
    : exchange_(std::move(exchange)) {}

grpc::Status EventsService::Publish(grpc::ServerContext* ctx, const evv1::PublishRequest* req,
                                    google::protobuf::Empty*) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error().wrap("failed publishing event"));
    events::Envelope env;
    const auto now = metadata::to_timestamp(std::chrono::system_clock::now());
    env.mutable_timestamp()->set_seconds(now.seconds);
    env.mutable_timestamp()->set_nanos(now.nanos);
    env.set_namespace_(*ns);
    env.set_topic(req->topic());
    *env.mutable_event() = req->event();
    return to_grpc(exchange_->forward(std::move(env)));
}

grpc::Status EventsService::Forward(grpc::ServerContext*, const evv1::ForwardRequest* req,
                                    google::protobuf::Empty*) {
    return to_grpc(exchange_->forward(req->envelope()));
}

grpc::Status EventsService::Subscribe(grpc::ServerContext* ctx, const evv1::SubscribeRequest* req,
                                      grpc::ServerWriter<evv1::Envelope>* writer) {
    std::vector<std::string> fs(req->filters().begin(), req->filters().end());
    auto sub = exchange_->subscribe(fs);
    if (!sub.ok()) return to_grpc(sub.error());
    {
        std::lock_guard lock(mu_);
        if (stopping_) return {grpc::StatusCode::UNAVAILABLE, "daemon is shutting down"};
        active_.insert(&sub.value());
    }
    grpc::Status result;
    while (true) {
        if (ctx->IsCancelled()) {
            result = {grpc::StatusCode::CANCELLED, "context canceled"};
            break;
        }
        auto next = sub->next(kCancelPoll);
        if (!next.ok()) {
            result = stopping_
                         ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "daemon is shutting down")
                         : to_grpc(next.error());
            break;
        }
        if (next->has_value() && !writer->Write(**next)) {
            result = {grpc::StatusCode::CANCELLED, "context canceled"};
            break;
        }
    }
    std::lock_guard lock(mu_);
    active_.erase(&sub.value());
    log::debug("events: subscription stream ends: {}", result.error_message());
    return result;
}

void EventsService::shutdown() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    log::debug("events: closing {} subscription stream(s) for shutdown", active_.size());
    for (auto* s : active_)
        s->close();
}

} // namespace gantry::services
