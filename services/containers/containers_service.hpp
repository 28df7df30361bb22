// containerd.services.containers.v1.Containers over a containers::Store (protocol-facts §2.2):
// converts protos and errors, nothing else.
#pragma once

#include "services/containers/v1/containers.grpc.pb.h"

#include <memory>

namespace gantry::containers {
class Store;
}

namespace gantry::services {

class ContainersService final : public containerd::services::containers::v1::Containers::Service {
public:
    explicit ContainersService(std::shared_ptr<containers::Store> store);

    grpc::Status Get(grpc::ServerContext* ctx,
                     const containerd::services::containers::v1::GetContainerRequest* req,
                     containerd::services::containers::v1::GetContainerResponse* resp) override;
    grpc::Status List(grpc::ServerContext* ctx,
                      const containerd::services::containers::v1::ListContainersRequest* req,
                      containerd::services::containers::v1::ListContainersResponse* resp) override;
    // One container per message, as containerd 1.6 streams them.
    grpc::Status
    ListStream(grpc::ServerContext* ctx,
               const containerd::services::containers::v1::ListContainersRequest* req,
               grpc::ServerWriter<containerd::services::containers::v1::ListContainerMessage>*
                   writer) override;
    grpc::Status
    Create(grpc::ServerContext* ctx,
           const containerd::services::containers::v1::CreateContainerRequest* req,
           containerd::services::containers::v1::CreateContainerResponse* resp) override;
    grpc::Status
    Update(grpc::ServerContext* ctx,
           const containerd::services::containers::v1::UpdateContainerRequest* req,
           containerd::services::containers::v1::UpdateContainerResponse* resp) override;
    grpc::Status Delete(grpc::ServerContext* ctx,
                        const containerd::services::containers::v1::DeleteContainerRequest* req,
                        google::protobuf::Empty* resp) override;

private:
    std::shared_ptr<containers::Store> store_;
};

} // namespace gantry::services
