// Per-method gRPC metrics, named as go-grpc-prometheus names them (containerd exports these), so
// dashboards written for containerd work against gantryd:
//   grpc_server_started_total, grpc_server_handled_total{grpc_code}, grpc_server_handling_seconds.
#pragma once

#include <grpcpp/support/server_interceptor.h>
#include <memory>

namespace gantry::services {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_metrics_interceptor();

} // namespace gantry::services
