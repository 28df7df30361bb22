// containerd.services.content.v1.Content over the namespaced content store
// (core/content/store.hpp). Behaviour follows containerd 1.6's content server: see
// protocol-facts.md §2.3 and §7.2-7.3. Deviation: a Write with a negative offset is refused with
// OutOfRange instead of being treated as an append.
#pragma once

#include "services/content/v1/content.grpc.pb.h"

#include <memory>

namespace gantry::content {
class Store;
}
namespace gantry::events {
class Publisher;
}
namespace gantry::gc {
class Collector;
}

namespace gantry::services {

class ContentService final : public containerd::services::content::v1::Content::Service {
public:
    // `events` and `collector` may be null: then Delete publishes nothing / marks nothing dirty.
    ContentService(std::shared_ptr<content::Store> store, std::shared_ptr<events::Publisher> events,
                   std::shared_ptr<gc::Collector> collector);

    grpc::Status Info(grpc::ServerContext* ctx,
                      const containerd::services::content::v1::InfoRequest* req,
                      containerd::services::content::v1::InfoResponse* resp) override;
    grpc::Status Update(grpc::ServerContext* ctx,
                        const containerd::services::content::v1::UpdateRequest* req,
                        containerd::services::content::v1::UpdateResponse* resp) override;
    grpc::Status
    List(grpc::ServerContext* ctx, const containerd::services::content::v1::ListContentRequest* req,
         grpc::ServerWriter<containerd::services::content::v1::ListContentResponse>* writer)
        override;
    grpc::Status Delete(grpc::ServerContext* ctx,
                        const containerd::services::content::v1::DeleteContentRequest* req,
                        google::protobuf::Empty* resp) override;
    grpc::Status
    Read(grpc::ServerContext* ctx, const containerd::services::content::v1::ReadContentRequest* req,
         grpc::ServerWriter<containerd::services::content::v1::ReadContentResponse>* writer)
        override;
    grpc::Status Status(grpc::ServerContext* ctx,
                        const containerd::services::content::v1::StatusRequest* req,
                        containerd::services::content::v1::StatusResponse* resp) override;
    grpc::Status
    ListStatuses(grpc::ServerContext* ctx,
                 const containerd::services::content::v1::ListStatusesRequest* req,
                 containerd::services::content::v1::ListStatusesResponse* resp) override;
    grpc::Status
    Write(grpc::ServerContext* ctx,
          grpc::ServerReaderWriter<containerd::services::content::v1::WriteContentResponse,
                                   containerd::services::content::v1::WriteContentRequest>* stream)
        override;
    grpc::Status Abort(grpc::ServerContext* ctx,
                       const containerd::services::content::v1::AbortRequest* req,
                       google::protobuf::Empty* resp) override;

private:
    std::shared_ptr<content::Store> store_;
    std::shared_ptr<events::Publisher> events_;
    std::shared_ptr<gc::Collector> collector_;
};

} // namespace gantry::services
