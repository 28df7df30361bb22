// containerd.services.version.v1.Version: what gantryd reports as its version.
#pragma once

#include "services/version/v1/version.grpc.pb.h"

namespace gantry::services {

class VersionService final : public containerd::services::version::v1::Version::Service {
public:
    grpc::Status Version(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                         containerd::services::version::v1::VersionResponse* resp) override;
};

} // namespace gantry::services
