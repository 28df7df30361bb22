#include "services/health/health_service.hpp"

#include <chrono>
#include <thread>

namespace gantry::services {

using grpc::health::v1::HealthCheckResponse;

grpc::Status HealthService::Check(grpc::ServerContext*,
                                  const grpc::health::v1::HealthCheckRequest* req,
                                  HealthCheckResponse* resp) {
    if (!req->service().empty())
        return {grpc::StatusCode::NOT_FOUND, "unknown service " + req->service()};
    resp->set_status(stopping_ ? HealthCheckResponse::NOT_SERVING : HealthCheckResponse::SERVING);
    return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest* req,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
    HealthCheckResponse resp;
    resp.set_status(!req->service().empty() ? HealthCheckResponse::SERVICE_UNKNOWN
                                            : HealthCheckResponse::SERVING);
    if (!writer->Write(resp)) return grpc::Status::OK;
    // The only change a watcher can see is the daemon stopping.
    while (!ctx->IsCancelled() && !stopping_)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (stopping_ && !ctx->IsCancelled()) {
        resp.set_status(HealthCheckResponse::NOT_SERVING);
        writer->Write(resp);
    }
    return grpc::Status::OK;
}

} // namespace gantry::services
