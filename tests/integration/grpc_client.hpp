// A raw gRPC channel to a test daemon, for what the CLIs cannot express (missing headers,
// exact status codes, every service's Unimplemented answer).
#pragma once

#include <chrono>
#include <grpcpp/grpcpp.h>
#include <memory>
#include <string>

namespace gantry::itest {

inline std::shared_ptr<grpc::Channel> channel(const std::string& socket) {
    return grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
}

inline std::unique_ptr<grpc::ClientContext> context(const std::string& ns = "default",
                                                    int timeout_s = 10) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!ns.empty()) ctx->AddMetadata("containerd-namespace", ns);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
    return ctx;
}

} // namespace gantry::itest
