// io.containerd.service.v1.images-service: the images::Store behind the Images gRPC service
// (protocol-facts §2.6): metadata transactions, /images/* events, and garbage collection on
// delete. Shipped as a shared object (DESIGN.md §3).
//
// The exchange (io.containerd.event.v1) and the collector (io.containerd.gc.v1) are optional and
// not in requires_types: they are looked up when first needed, through a copy of the InitContext
// (it refers to the registry, which outlives every plugin), so the plugin works whatever order
// they were initialised in and without them. No exchange: nothing is published. No collector:
// Delete with sync returns once the image is deleted.
#include "core/events/publisher.hpp"
#include "core/gc/collector.hpp"
#include "core/log.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/images.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/optional_deps.hpp"
#include "core/plugin/types.hpp"
#include "events/image.pb.h"

namespace {

using namespace gantry;
namespace imv1 = containerd::services::images::v1;

class ImageStore final : public images::Store {
public:
    ImageStore(std::shared_ptr<metadata::Database> db, const plugin::InitContext& ctx)
        : db_(std::move(db)), deps_(ctx, "images") {}

    Result<images::Image> get(std::string_view ns, std::string_view name) override {
        return db_->view(
            [&](const metadata::Txn& txn) { return metadata::images::get(txn, ns, name); });
    }

    Result<std::vector<images::Image>> list(std::string_view ns,
                                            std::span<const std::string> fs) override {
        auto filter = filters::parse(fs);
        if (!filter.ok()) return filter.error();
        return db_->view(
            [&](const metadata::Txn& txn) { return metadata::images::list(txn, ns, *filter); });
    }

    Result<images::Image> create(std::string_view ns, const images::Image& image) override {
        const auto now = metadata::to_timestamp(std::chrono::system_clock::now());
        GANTRY_ASSIGN_OR_RETURN(auto created, db_->update([&](metadata::WriteTxn& txn) {
            return metadata::images::create(txn, ns, image, now);
        }));
        imv1::ImageCreate ev;
        ev.set_name(created.name);
        ev.mutable_labels()->insert(created.labels.begin(), created.labels.end());
        deps_.publish(ns, "/images/create", ev);
        return created;
    }

    Result<images::Image> update(std::string_view ns, const images::Image& image,
                                 std::span<const std::string> paths) override {
        const auto now = metadata::to_timestamp(std::chrono::system_clock::now());
        GANTRY_ASSIGN_OR_RETURN(auto updated, db_->update([&](metadata::WriteTxn& txn) {
            return metadata::images::update(txn, ns, image, paths, now);
        }));
        imv1::ImageUpdate ev;
        ev.set_name(updated.name);
        ev.mutable_labels()->insert(updated.labels.begin(), updated.labels.end());
        deps_.publish(ns, "/images/update", ev);
        return updated;
    }

    Status remove(std::string_view ns, std::string_view name, bool sync) override {
        GANTRY_TRY(db_->update(
            [&](metadata::WriteTxn& txn) { return metadata::images::remove(txn, ns, name); }));
        imv1::ImageDelete ev;
        ev.set_name(std::string(name));
        deps_.publish(ns, "/images/delete", ev);
        auto gc = deps_.collector();
        if (!gc) return ok_status();
        gc->mark_dirty();
        if (sync) return gc->collect_now();
        return ok_status();
    }

private:
    std::shared_ptr<metadata::Database> db_;
    plugin::OptionalDeps deps_;
};

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(auto db, ctx.get_as<metadata::Database>(plugin::types::kMetadata));
    std::shared_ptr<images::Store> store = std::make_shared<ImageStore>(std::move(db), ctx);
    return plugin::Instance(store);
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kService),
        .id = "images-service",
        .requires_types = {std::string(plugin::types::kMetadata)},
        .config = nullptr,
        .default_config = "",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("images", registrations)
