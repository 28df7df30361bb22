// containerd.services.events.v1.Events over the in-process exchange (protocol-facts §2.5).
#pragma once

#include "services/events/v1/events.grpc.pb.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <set>

namespace gantry::events {
class Exchange;
class Subscription;
} // namespace gantry::events

namespace gantry::services {

class EventsService final : public containerd::services::events::v1::Events::Service {
public:
    explicit EventsService(std::shared_ptr<events::Exchange> exchange);

    // Publish: stamped with the header namespace and UTC now; the Any is kept as sent.
    grpc::Status Publish(grpc::ServerContext* ctx,
                         const containerd::services::events::v1::PublishRequest* req,
                         google::protobuf::Empty* resp) override;
    // Forward: the envelope as sent, after containerd's validation.
    grpc::Status Forward(grpc::ServerContext* ctx,
                         const containerd::services::events::v1::ForwardRequest* req,
                         google::protobuf::Empty* resp) override;
    // Subscribe: every namespace unless filtered. Ends when the client cancels (CANCELLED), when
    // the subscriber falls behind (FAILED_PRECONDITION) or when the daemon stops (UNAVAILABLE).
    grpc::Status
    Subscribe(grpc::ServerContext* ctx,
              const containerd::services::events::v1::SubscribeRequest* req,
              grpc::ServerWriter<containerd::services::events::v1::Envelope>* writer) override;

    // The daemon is stopping: end every open Subscribe stream now.
    void shutdown();

private:
    std::shared_ptr<events::Exchange> exchange_;
    std::atomic<bool> stopping_{false};
    std::mutex mu_;
    std::set<events::Subscription*> active_;
};

} // namespace gantry::services
