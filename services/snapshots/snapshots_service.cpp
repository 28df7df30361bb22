#include "services/snapshots/snapshots_service.hpp"

#include "core/events/publisher.hpp"
#include "core/filters/filter.hpp"
#include "core/metadata/snapshots.hpp"
#include "core/snapshots/snapshotter.hpp"
#include "events/snapshot.pb.h"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

#include <vector>

namespace gantry::services {

namespace {

// List replies carry at most this many Info, as containerd.
constexpr int kListBatch = 100;

// containerd's getSnapshotter: InvalidArgument for an empty or unknown name.
Result<std::shared_ptr<snapshots::Store>> pick(const snapshots::Service& svc,
                                               const std::string& name) {
    if (name.empty()) return invalid_argument("snapshotter argument missing");
    auto store = svc.find(name);
    if (!store) return invalid_argument("snapshotter not loaded: " + name);
    return store;
}

void to_proto(const snapshots::Mounts& in,
              google::protobuf::RepeatedPtrField<containerd::types::Mount>* out) {
    for (const auto& m : in) {
        auto* pm = out->Add();
        pm->set_type(m.type);
        pm->set_source(m.source);
        pm->set_target(m.target);
        for (const auto& o : m.options)
            pm->add_options(o);
    }
}

void to_proto(const snapshots::Info& in, sv1::Info* out) {
    out->set_name(in.name);
    out->set_parent(in.parent);
    out->set_kind(static_cast<sv1::Kind>(static_cast<int>(in.kind)));
    out->mutable_created_at()->set_seconds(in.created_at.seconds);
    out->mutable_created_at()->set_nanos(in.created_at.nanos);
    out->mutable_updated_at()->set_seconds(in.updated_at.seconds);
    out->mutable_updated_at()->set_nanos(in.updated_at.nanos);
    out->mutable_labels()->insert(in.labels.begin(), in.labels.end());
}

snapshots::Labels labels_of(const google::protobuf::Map<std::string, std::string>& m) {
    return snapshots::Labels(m.begin(), m.end());
}

// The request's namespace and store, or the status to answer with.
struct Target {
    std::string ns;
    std::shared_ptr<snapshots::Store> store;
};
Result<Target> target(const grpc::ServerContext& ctx, const snapshots::Service& svc,
                      const std::string& snapshotter) {
    GANTRY_ASSIGN_OR_RETURN(auto store, pick(svc, snapshotter));
    GANTRY_ASSIGN_OR_RETURN(auto ns, require_namespace(ctx));
    return Target{std::move(ns), std::move(store)};
}

} // namespace

SnapshotsService::SnapshotsService(std::shared_ptr<snapshots::Service> snapshots,
                                   std::shared_ptr<events::Publisher> events)
    : snapshots_(std::move(snapshots)), events_(std::move(events)) {}

grpc::Status SnapshotsService::Prepare(grpc::ServerContext* ctx,
                                       const sv1::PrepareSnapshotRequest* req,
                                       sv1::PrepareSnapshotResponse* resp) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    auto m = t->store->prepare(t->ns, optional_lease(*ctx), req->key(), req->parent(),
                               labels_of(req->labels()));
    if (!m.ok()) return to_grpc(m.error());
    to_proto(*m, resp->mutable_mounts());
    if (events_) {
        containerd::events::SnapshotPrepare ev;
        ev.set_key(req->key());
        ev.set_parent(req->parent());
        (void)events_->publish(t->ns, "/snapshot/prepare", ev);
    }
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::View(grpc::ServerContext* ctx, const sv1::ViewSnapshotRequest* req,
                                    sv1::ViewSnapshotResponse* resp) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    auto m = t->store->view(t->ns, optional_lease(*ctx), req->key(), req->parent(),
                            labels_of(req->labels()));
    if (!m.ok()) return to_grpc(m.error());
    to_proto(*m, resp->mutable_mounts());
    return grpc::Status::OK; // containerd publishes no event for View
}

grpc::Status SnapshotsService::Mounts(grpc::ServerContext* ctx, const sv1::MountsRequest* req,
                                      sv1::MountsResponse* resp) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    auto m = t->store->mounts(t->ns, req->key());
    if (!m.ok()) return to_grpc(m.error());
    to_proto(*m, resp->mutable_mounts());
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::Commit(grpc::ServerContext* ctx,
                                      const sv1::CommitSnapshotRequest* req,
                                      google::protobuf::Empty*) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    auto st = t->store->commit(t->ns, optional_lease(*ctx), req->name(), req->key(),
                               labels_of(req->labels()));
    if (!st.ok()) return to_grpc(st);
    if (events_) {
        containerd::events::SnapshotCommit ev;
        ev.set_key(req->key());
        ev.set_name(req->name());
        (void)events_->publish(t->ns, "/snapshot/commit", ev);
    }
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::Remove(grpc::ServerContext* ctx,
                                      const sv1::RemoveSnapshotRequest* req,
                                      google::protobuf::Empty*) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    if (auto st = t->store->remove(t->ns, req->key()); !st.ok()) return to_grpc(st);
    if (events_) {
        containerd::events::SnapshotRemove ev;
        ev.set_key(req->key());
        (void)events_->publish(t->ns, "/snapshot/remove", ev);
    }
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::Stat(grpc::ServerContext* ctx, const sv1::StatSnapshotRequest* req,
                                    sv1::StatSnapshotResponse* resp) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    auto info = t->store->stat(t->ns, req->key());
    if (!info.ok()) return to_grpc(info.error());
    to_proto(*info, resp->mutable_info());
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::Update(grpc::ServerContext* ctx,
                                      const sv1::UpdateSnapshotRequest* req,
                                      sv1::UpdateSnapshotResponse* resp) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    snapshots::Info in;
    in.name = req->info().name();
    in.labels = labels_of(req->info().labels());
    std::vector<std::string> paths(req->update_mask().paths().begin(),
                                   req->update_mask().paths().end());
    auto info = t->store->update(t->ns, in, paths);
    if (!info.ok()) return to_grpc(info.error());
    to_proto(*info, resp->mutable_info());
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::List(grpc::ServerContext* ctx, const sv1::ListSnapshotsRequest* req,
                                    grpc::ServerWriter<sv1::ListSnapshotsResponse>* writer) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    auto filter = filters::parse_range(req->filters());
    if (!filter.ok()) return to_grpc(filter.error());
    sv1::ListSnapshotsResponse batch;
    bool send_failed = false;
    auto st = t->store->walk(t->ns, &*filter, [&](const snapshots::Info& info) -> gantry::Status {
        to_proto(info, batch.add_info());
        if (batch.info_size() < kListBatch) return {};
        if (!writer->Write(batch)) {
            send_failed = true;
            return Error(Errc::Canceled, "client went away");
        }
        batch.Clear();
        return {};
    });
    if (send_failed) return {grpc::StatusCode::CANCELLED, "context canceled"};
    if (!st.ok()) return to_grpc(st);
    if (batch.info_size() > 0 && !writer->Write(batch))
        return {grpc::StatusCode::CANCELLED, "context canceled"};
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::Usage(grpc::ServerContext* ctx, const sv1::UsageRequest* req,
                                     sv1::UsageResponse* resp) {
    auto t = target(*ctx, *snapshots_, req->snapshotter());
    if (!t.ok()) return to_grpc(t.error());
    auto u = t->store->usage(t->ns, req->key());
    if (!u.ok()) return to_grpc(u.error());
    resp->set_size(u->size);
    resp->set_inodes(u->inodes);
    return grpc::Status::OK;
}

grpc::Status SnapshotsService::Cleanup(grpc::ServerContext*, const sv1::CleanupRequest* req,
                                       google::protobuf::Empty*) {
    // No namespace needed: only data that no namespace names is removed.
    auto store = pick(*snapshots_, req->snapshotter());
    if (!store.ok()) return to_grpc(store.error());
    auto* meta = dynamic_cast<metadata::SnapshotStore*>(store->get());
    if (meta == nullptr)
        return to_grpc(
            not_implemented("snapshotter " + req->snapshotter() + " does not support cleanup"));
    auto pruned = meta->prune(false);
    if (!pruned.ok()) return to_grpc(pruned.error());
    return grpc::Status::OK;
}

SnapshotsAdminService::SnapshotsAdminService(std::shared_ptr<snapshots::Service> snapshots)
    : snapshots_(std::move(snapshots)) {}

grpc::Status SnapshotsAdminService::ListOrphans(grpc::ServerContext*,
                                                const gantry::admin::v1::ListOrphansRequest* req,
                                                gantry::admin::v1::ListOrphansResponse* resp) {
    auto store = pick(*snapshots_, req->snapshotter());
    if (!store.ok()) return to_grpc(store.error());
    auto* meta = dynamic_cast<metadata::SnapshotStore*>(store->get());
    if (meta == nullptr)
        return to_grpc(
            not_implemented("snapshotter " + req->snapshotter() + " does not support pruning"));
    auto keys = meta->prune(true);
    if (!keys.ok()) return to_grpc(keys.error());
    for (const auto& k : *keys)
        resp->add_keys(k);
    return grpc::Status::OK;
}

} // namespace gantry::services
