// Per-request facts carried in gRPC metadata: the namespace and the lease.
#pragma once

#include "core/errors.hpp"

#include <grpcpp/server_context.h>
#include <optional>
#include <string>

namespace gantry::services {

inline constexpr std::string_view kNamespaceHeader = "containerd-namespace";
inline constexpr std::string_view kLeaseHeader = "containerd-lease";

// The request's namespace: the first `containerd-namespace` value, which must be a valid
// identifier. Missing or empty: FailedPrecondition "namespace is required", as containerd.
Result<std::string> require_namespace(const grpc::ServerContext& ctx);
// The namespace if one was sent (validated), for RPCs where it is optional.
Result<std::optional<std::string>> optional_namespace(const grpc::ServerContext& ctx);
// The request's lease: the first `containerd-lease` value; empty when none was sent. Lease ids
// are not validated (containerd does not); a lease that does not exist is reported by the store
// that records a resource in it (NotFound "lease does not exist").
std::string optional_lease(const grpc::ServerContext& ctx);

} // namespace gantry::services
