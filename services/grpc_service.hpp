// What a plugin of type io.containerd.grpc.v1 gives gantryd: a gRPC service to serve.
#pragma once

#include <grpcpp/impl/codegen/service_type.h>

namespace gantry::services {

class GrpcService {
public:
    virtual ~GrpcService() = default;
    virtual grpc::Service* service() = 0;
    // The daemon is stopping: end long-lived streams so the server can drain.
    virtual void shutdown() {}
};

// Wraps a service object that is also its own GrpcService.
template <typename S>
class OwnedService final : public GrpcService {
public:
    template <typename... Args>
    explicit OwnedService(Args&&... args) : svc_(std::forward<Args>(args)...) {}
    grpc::Service* service() override { return &svc_; }
    void shutdown() override {
        if constexpr (requires(S & s) { s.shutdown(); }) svc_.shutdown();
    }
    S& get() { return svc_; }

private:
    S svc_;
};

} // namespace gantry::services
