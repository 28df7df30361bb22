// containerd.services.leases.v1.Leases over the lease manager
// (io.containerd.service.v1.leases-service).
#pragma once

#include "services/leases/v1/leases.grpc.pb.h"

#include <memory>

namespace gantry::metadata::leases {
class Manager;
}

namespace gantry::services {

class LeasesService final : public containerd::services::leases::v1::Leases::Service {
public:
    explicit LeasesService(std::shared_ptr<metadata::leases::Manager> manager);

    grpc::Status Create(grpc::ServerContext* ctx,
                        const containerd::services::leases::v1::CreateRequest* req,
                        containerd::services::leases::v1::CreateResponse* resp) override;
    grpc::Status Delete(grpc::ServerContext* ctx,
                        const containerd::services::leases::v1::DeleteRequest* req,
                        google::protobuf::Empty* resp) override;
    grpc::Status List(grpc::ServerContext* ctx,
                      const containerd::services::leases::v1::ListRequest* req,
                      containerd::services::leases::v1::ListResponse* resp) override;
    grpc::Status AddResource(grpc::ServerContext* ctx,
                             const containerd::services::leases::v1::AddResourceRequest* req,
                             google::protobuf::Empty* resp) override;
    grpc::Status DeleteResource(grpc::ServerContext* ctx,
                                const containerd::services::leases::v1::DeleteResourceRequest* req,
                                google::protobuf::Empty* resp) override;
    grpc::Status
    ListResources(grpc::ServerContext* ctx,
                  const containerd::services::leases::v1::ListResourcesRequest* req,
                  containerd::services::leases::v1::ListResourcesResponse* resp) override;

private:
    std::shared_ptr<metadata::leases::Manager> manager_;
};

} // namespace gantry::services
