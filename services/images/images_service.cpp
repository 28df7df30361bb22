#include "services/images/images_service.hpp"

#include "core/metadata/images.hpp"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"

namespace gantry::services {

namespace imv1 = containerd::services::images::v1;

namespace {

images::Image from_proto(const imv1::Image& p) {
    images::Image img;
    img.name = p.name();
    img.labels.insert(p.labels().begin(), p.labels().end());
    img.target.media_type = p.target().media_type();
    img.target.digest = p.target().digest();
    img.target.size = p.target().size();
    img.target.annotations.insert(p.target().annotations().begin(), p.target().annotations().end());
    return img;
}

void set_time(google::protobuf::Timestamp* out, metadata::Timestamp t) {
    out->set_seconds(t.seconds);
    out->set_nanos(t.nanos);
}

void to_proto(const images::Image& img, imv1::Image* p) {
    p->set_name(img.name);
    p->mutable_labels()->insert(img.labels.begin(), img.labels.end());
    auto* t = p->mutable_target(); // always emitted, as containerd's non-nullable target
    t->set_media_type(img.target.media_type);
    t->set_digest(img.target.digest);
    t->set_size(img.target.size);
    t->mutable_annotations()->insert(img.target.annotations.begin(), img.target.annotations.end());
    set_time(p->mutable_created_at(), img.created_at);
    set_time(p->mutable_updated_at(), img.updated_at);
}

const grpc::Status kNameRequired{grpc::StatusCode::INVALID_ARGUMENT, "Image.Name required"};

} // namespace

ImagesService::ImagesService(std::shared_ptr<images::Store> store) : store_(std::move(store)) {}

grpc::Status ImagesService::Get(grpc::ServerContext* ctx, const imv1::GetImageRequest* req,
                                imv1::GetImageResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto img = store_->get(*ns, req->name());
    if (!img.ok()) return to_grpc(img.error());
    to_proto(*img, resp->mutable_image());
    return grpc::Status::OK;
}

grpc::Status ImagesService::List(grpc::ServerContext* ctx, const imv1::ListImagesRequest* req,
                                 imv1::ListImagesResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    std::vector<std::string> fs(req->filters().begin(), req->filters().end());
    auto list = store_->list(*ns, fs);
    if (!list.ok()) return to_grpc(list.error());
    resp->mutable_images()->Reserve(static_cast<int>(list->size()));
    for (const auto& img : *list)
        to_proto(img, resp->add_images());
    return grpc::Status::OK;
}

grpc::Status ImagesService::Create(grpc::ServerContext* ctx, const imv1::CreateImageRequest* req,
                                   imv1::CreateImageResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    if (req->image().name().empty()) return kNameRequired;
    auto img = store_->create(*ns, from_proto(req->image()));
    if (!img.ok()) return to_grpc(img.error());
    to_proto(*img, resp->mutable_image());
    return grpc::Status::OK;
}

grpc::Status ImagesService::Update(grpc::ServerContext* ctx, const imv1::UpdateImageRequest* req,
                                   imv1::UpdateImageResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    if (req->image().name().empty()) return kNameRequired;
    std::vector<std::string> paths(req->update_mask().paths().begin(),
                                   req->update_mask().paths().end());
    auto img = store_->update(*ns, from_proto(req->image()), paths);
    if (!img.ok()) return to_grpc(img.error());
    to_proto(*img, resp->mutable_image());
    return grpc::Status::OK;
}

grpc::Status ImagesService::Delete(grpc::ServerContext* ctx, const imv1::DeleteImageRequest* req,
                                   google::protobuf::Empty*) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    return to_grpc(store_->remove(*ns, req->name(), req->sync()));
}

} // namespace gantry::services
