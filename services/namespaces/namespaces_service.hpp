// containerd.services.namespaces.v1.Namespaces over the metadata store's namespace table.
#pragma once

#include "services/namespaces/v1/namespaces.grpc.pb.h"

#include <memory>

namespace gantry::metadata {
class Database;
}
namespace gantry::events {
class Publisher;
}

namespace gantry::services {

class NamespacesService final : public containerd::services::namespaces::v1::Namespaces::Service {
public:
    // `events` may be null (no exchange): nothing is published then.
    NamespacesService(std::shared_ptr<metadata::Database> db,
                      std::shared_ptr<events::Publisher> events);

    grpc::Status Get(grpc::ServerContext* ctx,
                     const containerd::services::namespaces::v1::GetNamespaceRequest* req,
                     containerd::services::namespaces::v1::GetNamespaceResponse* resp) override;
    grpc::Status List(grpc::ServerContext* ctx,
                      const containerd::services::namespaces::v1::ListNamespacesRequest* req,
                      containerd::services::namespaces::v1::ListNamespacesResponse* resp) override;
    grpc::Status
    Create(grpc::ServerContext* ctx,
           const containerd::services::namespaces::v1::CreateNamespaceRequest* req,
           containerd::services::namespaces::v1::CreateNamespaceResponse* resp) override;
    grpc::Status
    Update(grpc::ServerContext* ctx,
           const containerd::services::namespaces::v1::UpdateNamespaceRequest* req,
           containerd::services::namespaces::v1::UpdateNamespaceResponse* resp) override;
    grpc::Status Delete(grpc::ServerContext* ctx,
                        const containerd::services::namespaces::v1::DeleteNamespaceRequest* req,
                        google::protobuf::Empty* resp) override;

private:
    void publish(std::string_view ns, std::string_view topic,
                 const google::protobuf::Message& event) const;

    std::shared_ptr<metadata::Database> db_;
    std::shared_ptr<events::Publisher> events_;
};

} // namespace gantry::services
