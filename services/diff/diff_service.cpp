#include "services/diff/diff_service.hpp"

#include "core/diff/differ.hpp"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

namespace gantry::services {

namespace dv1 = containerd::services::diff::v1;

namespace {

std::vector<mount::Mount>
from_proto(const google::protobuf::RepeatedPtrField<containerd::types::Mount>& ms) {
    std::vector<mount::Mount> out;
    out.reserve(static_cast<std::size_t>(ms.size()));
    for (const auto& m : ms)
        out.push_back({m.type(), m.source(), m.target(), {m.options().begin(), m.options().end()}});
    return out;
}

diff::Descriptor from_proto(const containerd::types::Descriptor& d) {
    diff::Descriptor out;
    out.media_type = d.media_type();
    out.digest = d.digest();
    out.size = d.size();
    out.annotations.insert(d.annotations().begin(), d.annotations().end());
    return out;
}

void to_proto(const diff::Descriptor& d, containerd::types::Descriptor* p) {
    p->set_media_type(d.media_type);
    p->set_digest(d.digest);
    p->set_size(d.size);
    p->mutable_annotations()->insert(d.annotations.begin(), d.annotations.end());
}

} // namespace

DiffService::DiffService(std::shared_ptr<diff::Differ> differ) : differ_(std::move(differ)) {}

grpc::Status DiffService::Apply(grpc::ServerContext* ctx, const dv1::ApplyRequest* req,
                                dv1::ApplyResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto mounts = from_proto(req->mounts());
    auto applied = differ_->apply(*ns, from_proto(req->diff()), mounts);
    if (!applied.ok()) return to_grpc(applied.error());
    to_proto(*applied, resp->mutable_applied());
    return grpc::Status::OK;
}

grpc::Status DiffService::Diff(grpc::ServerContext* ctx, const dv1::DiffRequest* req,
                               dv1::DiffResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto left = from_proto(req->left());
    auto right = from_proto(req->right());
    diff::CompareOptions opts;
    opts.media_type = req->media_type();
    opts.ref = req->ref();
    opts.labels.insert(req->labels().begin(), req->labels().end());
    auto d = differ_->compare(*ns, optional_lease(*ctx), left, right, opts);
    if (!d.ok()) return to_grpc(d.error());
    to_proto(*d, resp->mutable_diff());
    return grpc::Status::OK;
}

} // namespace gantry::services
