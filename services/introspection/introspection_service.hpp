// containerd.services.introspection.v1.Introspection: every plugin with its status, and the
// server's persistent UUID.
#pragma once

#include "core/plugin/registry.hpp"
#include "services/introspection/v1/introspection.grpc.pb.h"

#include <string>

namespace gantry::services {

class IntrospectionService final
    : public containerd::services::introspection::v1::Introspection::Service {
public:
    // `uuid_dir` is <root>/io.containerd.grpc.v1.introspection; the UUID is made on first use.
    IntrospectionService(const plugin::Registry& registry, std::string uuid_dir);

    grpc::Status Plugins(grpc::ServerContext* ctx,
                         const containerd::services::introspection::v1::PluginsRequest* req,
                         containerd::services::introspection::v1::PluginsResponse* resp) override;
    grpc::Status Server(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                        containerd::services::introspection::v1::ServerResponse* resp) override;

private:
    const plugin::Registry& registry_;
    std::string uuid_dir_;
};

// Reads the UUID in `dir`/uuid, creating it (v4, written atomically) when absent.
Result<std::string> load_or_create_uuid(const std::string& dir);

} // namespace gantry::services
