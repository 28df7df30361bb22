// grpc.health.v1.Health: the server as a whole ("") is SERVING while gantryd runs.
#pragma once

#include "health/health.grpc.pb.h"

#include <atomic>

namespace gantry::services {

class HealthService final : public grpc::health::v1::Health::Service {
public:
    grpc::Status Check(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                       grpc::health::v1::HealthCheckResponse* resp) override;
    grpc::Status Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                       grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;
    // Called when the daemon begins to stop: watchers get NOT_SERVING and their streams end.
    void shutdown() { stopping_ = true; }

private:
    std::atomic<bool> stopping_{false};
};

} // namespace gantry::services
