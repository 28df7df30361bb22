// containerd.services.namespaces.v1.Namespaces over the metadata store's namespace table.
#pragma once

#include "services/namespaces/v1/namespaces.grpc.pb.h"

#include <memory>

namespace gantry::metadata {
class Database;
}

namespace gantry::services {

class NamespacesService final : public containerd::services::namespaces::v1::Namespaces::Service {
public:
    explicit NamespacesService(std::shared_ptr<metadata::Database> db);

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
    std::shared_ptr<metadata::Database> db_;
};

} // namespace gantry::services
