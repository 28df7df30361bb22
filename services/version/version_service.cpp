#include "services/version/version_service.hpp"

#include "core/build_info.hpp"

namespace gantry::services {

grpc::Status VersionService::Version(grpc::ServerContext*, const google::protobuf::Empty*,
                                     containerd::services::version::v1::VersionResponse* resp) {
    // The version names the containerd API level we speak, so clients that compare versions
    // (ctr warns on a mismatch) see a 1.6 server; the revision identifies our build.
    resp->set_version(GANTRY_WIRE_VERSION);
    resp->set_revision(GANTRY_REVISION);
    return grpc::Status::OK;
}

} // namespace gantry::services
