#include "services/leases/leases_service.hpp"

#include "core/filters/filter.hpp"
#include "core/metadata/leases.hpp"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

namespace gantry::services {

namespace v1 = containerd::services::leases::v1;
namespace leases = metadata::leases;

namespace {

void fill(v1::Lease* out, const leases::Lease& l) {
    out->set_id(l.id);
    out->mutable_created_at()->set_seconds(l.created_at.seconds);
    out->mutable_created_at()->set_nanos(l.created_at.nanos);
    out->mutable_labels()->insert(l.labels.begin(), l.labels.end());
}

leases::Resource resource(const v1::Resource& r) {
    return {r.id(), r.type()};
}

} // namespace

LeasesService::LeasesService(std::shared_ptr<leases::Manager> manager)
    : manager_(std::move(manager)) {}

grpc::Status LeasesService::Create(grpc::ServerContext* ctx, const v1::CreateRequest* req,
                                   v1::CreateResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto lease = manager_->create(*ns, req->id(),
                                  metadata::Labels(req->labels().begin(), req->labels().end()));
    if (!lease.ok()) return to_grpc(lease.error());
    fill(resp->mutable_lease(), *lease);
    return grpc::Status::OK;
}

grpc::Status LeasesService::Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req,
                                   google::protobuf::Empty*) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    return to_grpc(manager_->remove(*ns, req->id(), req->sync()));
}

grpc::Status LeasesService::List(grpc::ServerContext* ctx, const v1::ListRequest* req,
                                 v1::ListResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto filter = filters::parse_range(req->filters());
    if (!filter.ok()) return to_grpc(filter.error());
    auto list = manager_->list(*ns, *filter);
    if (!list.ok()) return to_grpc(list.error());
    for (const auto& l : *list)
        fill(resp->add_leases(), l);
    return grpc::Status::OK;
}

grpc::Status LeasesService::AddResource(grpc::ServerContext* ctx, const v1::AddResourceRequest* req,
                                        google::protobuf::Empty*) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    return to_grpc(manager_->add_resource(*ns, req->id(), resource(req->resource())));
}

grpc::Status LeasesService::DeleteResource(grpc::ServerContext* ctx,
                                           const v1::DeleteResourceRequest* req,
                                           google::protobuf::Empty*) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    return to_grpc(manager_->delete_resource(*ns, req->id(), resource(req->resource())));
}

grpc::Status LeasesService::ListResources(grpc::ServerContext* ctx,
                                          const v1::ListResourcesRequest* req,
                                          v1::ListResourcesResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto list = manager_->list_resources(*ns, req->id());
    if (!list.ok()) return to_grpc(list.error());
    for (const auto& r : *list) {
        auto* out = resp->add_resources();
        out->set_id(r.id);
        out->set_type(r.type);
    }
    return grpc::Status::OK;
}

} // namespace gantry::services
