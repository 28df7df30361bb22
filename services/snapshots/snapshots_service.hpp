// containerd.services.snapshots.v1.Snapshots over a snapshots::Service (protocol-facts §2.10):
// picks the store by the request's snapshotter, converts protos and errors, publishes the
// /snapshot/* events. And gantry.admin.v1.SnapshotsAdmin (api/gantry/admin), which
// lists what a prune would remove.
#pragma once

#include "gantry/admin/v1/snapshots.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"

#include <memory>

namespace gantry::events {
class Publisher;
}
namespace gantry::snapshots {
struct Service;
}

namespace gantry::services {

namespace sv1 = containerd::services::snapshots::v1;

class SnapshotsService final : public sv1::Snapshots::Service {
public:
    // `events` may be null (nothing is published).
    SnapshotsService(std::shared_ptr<snapshots::Service> snapshots,
                     std::shared_ptr<events::Publisher> events);

    grpc::Status Prepare(grpc::ServerContext* ctx, const sv1::PrepareSnapshotRequest* req,
                         sv1::PrepareSnapshotResponse* resp) override;
    grpc::Status View(grpc::ServerContext* ctx, const sv1::ViewSnapshotRequest* req,
                      sv1::ViewSnapshotResponse* resp) override;
    grpc::Status Mounts(grpc::ServerContext* ctx, const sv1::MountsRequest* req,
                        sv1::MountsResponse* resp) override;
    grpc::Status Commit(grpc::ServerContext* ctx, const sv1::CommitSnapshotRequest* req,
                        google::protobuf::Empty* resp) override;
    grpc::Status Remove(grpc::ServerContext* ctx, const sv1::RemoveSnapshotRequest* req,
                        google::protobuf::Empty* resp) override;
    grpc::Status Stat(grpc::ServerContext* ctx, const sv1::StatSnapshotRequest* req,
                      sv1::StatSnapshotResponse* resp) override;
    grpc::Status Update(grpc::ServerContext* ctx, const sv1::UpdateSnapshotRequest* req,
                        sv1::UpdateSnapshotResponse* resp) override;
    grpc::Status List(grpc::ServerContext* ctx, const sv1::ListSnapshotsRequest* req,
                      grpc::ServerWriter<sv1::ListSnapshotsResponse>* writer) override;
    grpc::Status Usage(grpc::ServerContext* ctx, const sv1::UsageRequest* req,
                       sv1::UsageResponse* resp) override;
    // Unlike containerd 1.6 (Unimplemented): prunes the backend (metadata::SnapshotStore::prune).
    grpc::Status Cleanup(grpc::ServerContext* ctx, const sv1::CleanupRequest* req,
                         google::protobuf::Empty* resp) override;

private:
    std::shared_ptr<snapshots::Service> snapshots_;
    std::shared_ptr<events::Publisher> events_;
};

class SnapshotsAdminService final : public gantry::admin::v1::SnapshotsAdmin::Service {
public:
    explicit SnapshotsAdminService(std::shared_ptr<snapshots::Service> snapshots);

    grpc::Status ListOrphans(grpc::ServerContext* ctx,
                             const gantry::admin::v1::ListOrphansRequest* req,
                             gantry::admin::v1::ListOrphansResponse* resp) override;

private:
    std::shared_ptr<snapshots::Service> snapshots_;
};

} // namespace gantry::services
