// containerd.services.diff.v1.Diff over a diff::Differ (the diff-service chain), protocol-facts
// §2.4: converts protos and errors, nothing else. Both calls need a namespace; Diff records the
// new blob in the request's lease.
#pragma once

#include "services/diff/v1/diff.grpc.pb.h"

#include <memory>

namespace gantry::diff {
class Differ;
}

namespace gantry::services {

class DiffService final : public containerd::services::diff::v1::Diff::Service {
public:
    explicit DiffService(std::shared_ptr<diff::Differ> differ);

    grpc::Status Apply(grpc::ServerContext* ctx,
                       const containerd::services::diff::v1::ApplyRequest* req,
                       containerd::services::diff::v1::ApplyResponse* resp) override;
    grpc::Status Diff(grpc::ServerContext* ctx,
                      const containerd::services::diff::v1::DiffRequest* req,
                      containerd::services::diff::v1::DiffResponse* resp) override;

private:
    std::shared_ptr<diff::Differ> differ_;
};

} // namespace gantry::services
