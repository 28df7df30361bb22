#include "services/request_context.hpp"

#include "core/metadata/identifiers.hpp"

namespace gantry::services {

Result<std::optional<std::string>> optional_namespace(const grpc::ServerContext& ctx) {
    const auto& md = ctx.client_metadata();
    // multimap keeps insertion order for equal keys: find() gives the first value sent.
    auto it = md.find(grpc::string_ref(kNamespaceHeader.data(), kNamespaceHeader.size()));
    if (it == md.end() || it->second.empty()) return std::optional<std::string>{};
    std::string ns(it->second.data(), it->second.size());
    if (auto st = metadata::validate_identifier(ns); !st.ok())
        return Error(Errc::InvalidArgument, "namespace: " + st.error().message());
    return std::optional<std::string>(std::move(ns));
}

Result<std::string> require_namespace(const grpc::ServerContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(std::optional<std::string> ns, optional_namespace(ctx));
    if (!ns) return failed_precondition("namespace is required");
    return std::move(*ns);
}

std::string optional_lease(const grpc::ServerContext& ctx) {
    const auto& md = ctx.client_metadata();
    auto it = md.find(grpc::string_ref(kLeaseHeader.data(), kLeaseHeader.size()));
    if (it == md.end()) return {};
    return std::string(it->second.data(), it->second.size());
}

} // namespace gantry::services
