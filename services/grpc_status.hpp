// The one place where Gantry's error classes become gRPC statuses. Errc values are gRPC codes,
// so the mapping is 1:1; the message gets containerd's class suffix so Go clients, which strip
// it, show the same text containerd would.
#pragma once

#include "core/errors.hpp"

#include <grpcpp/support/status.h>

namespace gantry::services {

inline grpc::Status to_grpc(const Error& e) {
    return {static_cast<grpc::StatusCode>(static_cast<int>(e.code())), e.wire_message()};
}

inline grpc::Status to_grpc(const Status& s) {
    return s.ok() ? grpc::Status::OK : to_grpc(s.error());
}

} // namespace gantry::services
