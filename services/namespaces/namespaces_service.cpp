#include "services/namespaces/namespaces_service.hpp"

#include "core/events/publisher.hpp"
#include "core/log.hpp"
#include "core/metadata/namespaces.hpp"
#include "events/namespace.pb.h"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

namespace gantry::services {

namespace nsv1 = containerd::services::namespaces::v1;

namespace {

metadata::Labels to_labels(const google::protobuf::Map<std::string, std::string>& m) {
    return metadata::Labels(m.begin(), m.end());
}

void fill(nsv1::Namespace* out, const std::string& name, const metadata::Labels& labels) {
    out->set_name(name);
    out->mutable_labels()->insert(labels.begin(), labels.end());
}

} // namespace

NamespacesService::NamespacesService(std::shared_ptr<metadata::Database> db,
                                     std::shared_ptr<events::Publisher> events)
    : db_(std::move(db)), events_(std::move(events)) {}

void NamespacesService::publish(std::string_view ns, std::string_view topic,
                                const google::protobuf::Message& event) const {
    if (!events_) return;
    // The change is committed; a failed publish is logged, never turned into a failed RPC.
    if (auto st = events_->publish(ns, topic, event); !st.ok())
        log::warn("publish {}: {}", topic, st.error().message());
}

grpc::Status NamespacesService::Get(grpc::ServerContext*, const nsv1::GetNamespaceRequest* req,
                                    nsv1::GetNamespaceResponse* resp) {
    metadata::NamespaceStore store(*db_);
    auto labels = store.get(req->name());
    if (!labels.ok()) return to_grpc(labels.error());
    fill(resp->mutable_namespace_(), req->name(), *labels);
    return grpc::Status::OK;
}

grpc::Status NamespacesService::List(grpc::ServerContext*, const nsv1::ListNamespacesRequest*,
                                     nsv1::ListNamespacesResponse* resp) {
    // The filter field exists on the wire but containerd ignores it; so do we.
    // Names and labels from one read transaction, so the listing is one consistent snapshot.
    auto st = db_->view([&](const metadata::Txn& txn) -> Status {
        GANTRY_ASSIGN_OR_RETURN(auto names, metadata::namespaces::list(txn));
        for (const auto& name : names) {
            GANTRY_ASSIGN_OR_RETURN(auto labels, metadata::namespaces::labels(txn, name));
            fill(resp->add_namespaces(), name, labels);
        }
        return {};
    });
    return to_grpc(st);
}

grpc::Status NamespacesService::Create(grpc::ServerContext* ctx,
                                       const nsv1::CreateNamespaceRequest* req,
                                       nsv1::CreateNamespaceResponse* resp) {
    // containerd needs the header here only to publish its event, and checks it after writing;
    // checking first means a refused call never leaves a namespace behind.
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    metadata::NamespaceStore store(*db_);
    const auto& n = req->namespace_();
    auto labels = to_labels(n.labels());
    if (auto st = store.create(n.name(), labels); !st.ok()) return to_grpc(st);
    fill(resp->mutable_namespace_(), n.name(), labels);
    containerd::events::NamespaceCreate ev;
    ev.set_name(n.name());
    ev.mutable_labels()->insert(labels.begin(), labels.end());
    publish(*ns, "/namespaces/create", ev);
    return grpc::Status::OK;
}

grpc::Status NamespacesService::Update(grpc::ServerContext* ctx,
                                       const nsv1::UpdateNamespaceRequest* req,
                                       nsv1::UpdateNamespaceResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    const auto& n = req->namespace_();
    std::vector<std::string> paths(req->update_mask().paths().begin(),
                                   req->update_mask().paths().end());
    // Update and read back in one write transaction: the response shows what was committed.
    auto updated = db_->update([&](metadata::WriteTxn& txn) -> Result<metadata::Labels> {
        GANTRY_TRY(metadata::namespaces::update(txn, n.name(), to_labels(n.labels()), paths));
        return metadata::namespaces::labels(txn, n.name());
    });
    if (!updated.ok()) return to_grpc(updated.error());
    fill(resp->mutable_namespace_(), n.name(), *updated);
    containerd::events::NamespaceUpdate ev;
    ev.set_name(n.name());
    ev.mutable_labels()->insert(updated->begin(), updated->end());
    publish(*ns, "/namespaces/update", ev);
    return grpc::Status::OK;
}

grpc::Status NamespacesService::Delete(grpc::ServerContext*,
                                       const nsv1::DeleteNamespaceRequest* req,
                                       google::protobuf::Empty*) {
    metadata::NamespaceStore store(*db_);
    if (auto st = store.remove(req->name()); !st.ok()) return to_grpc(st);
    // As containerd: the envelope carries the deleted namespace.
    containerd::events::NamespaceDelete ev;
    ev.set_name(req->name());
    publish(req->name(), "/namespaces/delete", ev);
    return grpc::Status::OK;
}

} // namespace gantry::services
