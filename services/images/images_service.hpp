// containerd.services.images.v1.Images over an images::Store (protocol-facts §2.6): converts
// protos and errors, nothing else.
#pragma once

#include "services/images/v1/images.grpc.pb.h"

#include <memory>

namespace gantry::images {
class Store;
}

namespace gantry::services {

class ImagesService final : public containerd::services::images::v1::Images::Service {
public:
    explicit ImagesService(std::shared_ptr<images::Store> store);

    grpc::Status Get(grpc::ServerContext* ctx,
                     const containerd::services::images::v1::GetImageRequest* req,
                     containerd::services::images::v1::GetImageResponse* resp) override;
    grpc::Status List(grpc::ServerContext* ctx,
                      const containerd::services::images::v1::ListImagesRequest* req,
                      containerd::services::images::v1::ListImagesResponse* resp) override;
    grpc::Status Create(grpc::ServerContext* ctx,
                        const containerd::services::images::v1::CreateImageRequest* req,
                        containerd::services::images::v1::CreateImageResponse* resp) override;
    grpc::Status Update(grpc::ServerContext* ctx,
                        const containerd::services::images::v1::UpdateImageRequest* req,
                        containerd::services::images::v1::UpdateImageResponse* resp) override;
    grpc::Status Delete(grpc::ServerContext* ctx,
                        const containerd::services::images::v1::DeleteImageRequest* req,
                        google::protobuf::Empty* resp) override;

private:
    std::shared_ptr<images::Store> store_;
};

} // namespace gantry::services
