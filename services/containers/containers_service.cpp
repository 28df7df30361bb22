#include "services/containers/containers_service.hpp"

#include "core/metadata/containers.hpp"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

namespace gantry::services {

namespace cv1 = containerd::services::containers::v1;

namespace {

containers::Any from_proto(const google::protobuf::Any& p) {
    return {p.type_url(), p.value()};
}

void to_proto(const containers::Any& a, google::protobuf::Any* p) {
    p->set_type_url(a.type_url);
    p->set_value(a.value);
}

containers::Container from_proto(const cv1::Container& p) {
    containers::Container c;
    c.id = p.id();
    c.labels.insert(p.labels().begin(), p.labels().end());
    c.image = p.image();
    if (p.has_runtime()) {
        c.runtime.name = p.runtime().name();
        if (p.runtime().has_options()) c.runtime.options = from_proto(p.runtime().options());
    }
    if (p.has_spec()) c.spec = from_proto(p.spec());
    c.snapshotter = p.snapshotter();
    c.snapshot_key = p.snapshot_key();
    for (const auto& [name, any] : p.extensions())
        c.extensions.emplace(name, from_proto(any));
    return c;
}

void set_time(google::protobuf::Timestamp* out, metadata::Timestamp t) {
    out->set_seconds(t.seconds);
    out->set_nanos(t.nanos);
}

void to_proto(const containers::Container& c, cv1::Container* p) {
    p->set_id(c.id);
    p->mutable_labels()->insert(c.labels.begin(), c.labels.end());
    p->set_image(c.image);
    auto* rt = p->mutable_runtime(); // containerd always sends the runtime
    rt->set_name(c.runtime.name);
    if (c.runtime.options) to_proto(*c.runtime.options, rt->mutable_options());
    if (c.spec) to_proto(*c.spec, p->mutable_spec());
    p->set_snapshotter(c.snapshotter);
    p->set_snapshot_key(c.snapshot_key);
    set_time(p->mutable_created_at(), c.created_at);
    set_time(p->mutable_updated_at(), c.updated_at);
    auto& ext = *p->mutable_extensions();
    for (const auto& [name, any] : c.extensions)
        to_proto(any, &ext[name]);
}

} // namespace

ContainersService::ContainersService(std::shared_ptr<containers::Store> store)
    : store_(std::move(store)) {}

grpc::Status ContainersService::Get(grpc::ServerContext* ctx, const cv1::GetContainerRequest* req,
                                    cv1::GetContainerResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto c = store_->get(*ns, req->id());
    if (!c.ok()) return to_grpc(c.error());
    to_proto(*c, resp->mutable_container());
    return grpc::Status::OK;
}

grpc::Status ContainersService::List(grpc::ServerContext* ctx,
                                     const cv1::ListContainersRequest* req,
                                     cv1::ListContainersResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    std::vector<std::string> fs(req->filters().begin(), req->filters().end());
    auto list = store_->list(*ns, fs);
    if (!list.ok()) return to_grpc(list.error());
    resp->mutable_containers()->Reserve(static_cast<int>(list->size()));
    for (const auto& c : *list)
        to_proto(c, resp->add_containers());
    return grpc::Status::OK;
}

grpc::Status ContainersService::ListStream(grpc::ServerContext* ctx,
                                           const cv1::ListContainersRequest* req,
                                           grpc::ServerWriter<cv1::ListContainerMessage>* writer) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    std::vector<std::string> fs(req->filters().begin(), req->filters().end());
    auto list = store_->list(*ns, fs);
    if (!list.ok()) return to_grpc(list.error());
    cv1::ListContainerMessage msg;
    for (const auto& c : *list) {
        // containerd stops quietly when the client has gone.
        if (ctx->IsCancelled()) return grpc::Status::OK;
        msg.Clear();
        to_proto(c, msg.mutable_container());
        if (!writer->Write(msg)) return grpc::Status::OK;
    }
    return grpc::Status::OK;
}

grpc::Status ContainersService::Create(grpc::ServerContext* ctx,
                                       const cv1::CreateContainerRequest* req,
                                       cv1::CreateContainerResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto c = store_->create(*ns, from_proto(req->container()));
    if (!c.ok()) return to_grpc(c.error());
    to_proto(*c, resp->mutable_container());
    return grpc::Status::OK;
}

grpc::Status ContainersService::Update(grpc::ServerContext* ctx,
                                       const cv1::UpdateContainerRequest* req,
                                       cv1::UpdateContainerResponse* resp) {
    // containerd checks the id before anything else, with this exact status (no class suffix).
    if (req->container().id().empty())
        return {grpc::StatusCode::INVALID_ARGUMENT, "Container.ID required"};
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    std::vector<std::string> paths(req->update_mask().paths().begin(),
                                   req->update_mask().paths().end());
    auto c = store_->update(*ns, from_proto(req->container()), paths);
    if (!c.ok()) return to_grpc(c.error());
    to_proto(*c, resp->mutable_container());
    return grpc::Status::OK;
}

grpc::Status ContainersService::Delete(grpc::ServerContext* ctx,
                                       const cv1::DeleteContainerRequest* req,
                                       google::protobuf::Empty*) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    return to_grpc(store_->remove(*ns, req->id()));
}

} // namespace gantry::services
