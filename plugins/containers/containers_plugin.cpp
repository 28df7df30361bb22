// io.containerd.service.v1.containers-service: the containers::Store behind the Containers gRPC
// service (protocol-facts §2.2): metadata transactions, /containers/* events with containerd's
// payloads (§2.14), and a dirty mark for the garbage collector on delete (a deleted container no
// longer roots its snapshot). Shipped as a shared object (DESIGN.md §3).
//
// As with images-service, the exchange (io.containerd.event.v1) and the collector
// (io.containerd.gc.v1) are optional: looked up when first needed through a copy of the
// InitContext, so the plugin works whatever order they were initialised in and without them.
#include "core/events/publisher.hpp"
#include "core/gc/collector.hpp"
#include "core/log.hpp"
#include "core/metadata/containers.hpp"
#include "core/metadata/database.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/optional_deps.hpp"
#include "core/plugin/types.hpp"
#include "events/container.pb.h"

namespace {

using namespace gantry;
namespace cev = containerd::events;

void set_any(google::protobuf::Any* out, const containers::Any& in) {
    out->set_type_url(in.type_url);
    out->set_value(in.value);
}

class ContainerStore final : public containers::Store {
public:
    ContainerStore(std::shared_ptr<metadata::Database> db, const plugin::InitContext& ctx)
        : db_(std::move(db)), deps_(ctx, "containers") {}

    Result<containers::Container> get(std::string_view ns, std::string_view id) override {
        return db_->view(
            [&](const metadata::Txn& txn) { return metadata::containers::get(txn, ns, id); });
    }

    Result<std::vector<containers::Container>> list(std::string_view ns,
                                                    std::span<const std::string> fs) override {
        auto filter = filters::parse(fs);
        if (!filter.ok()) return filter.error();
        return db_->view(
            [&](const metadata::Txn& txn) { return metadata::containers::list(txn, ns, *filter); });
    }

    Result<containers::Container> create(std::string_view ns,
                                         const containers::Container& c) override {
        const auto now = metadata::to_timestamp(std::chrono::system_clock::now());
        GANTRY_ASSIGN_OR_RETURN(auto created, db_->update([&](metadata::WriteTxn& txn) {
            return metadata::containers::create(txn, ns, c, now);
        }));
        cev::ContainerCreate ev;
        ev.set_id(created.id);
        ev.set_image(created.image);
        // containerd always sends the runtime, its options only when set.
        ev.mutable_runtime()->set_name(created.runtime.name);
        if (created.runtime.options)
            set_any(ev.mutable_runtime()->mutable_options(), *created.runtime.options);
        deps_.publish(ns, "/containers/create", ev);
        return created;
    }

    Result<containers::Container> update(std::string_view ns, const containers::Container& c,
                                         std::span<const std::string> paths) override {
        const auto now = metadata::to_timestamp(std::chrono::system_clock::now());
        GANTRY_ASSIGN_OR_RETURN(auto updated, db_->update([&](metadata::WriteTxn& txn) {
            return metadata::containers::update(txn, ns, c, paths, now);
        }));
        cev::ContainerUpdate ev;
        ev.set_id(updated.id);
        ev.set_image(updated.image);
        ev.mutable_labels()->insert(updated.labels.begin(), updated.labels.end());
        ev.set_snapshot_key(updated.snapshot_key);
        deps_.publish(ns, "/containers/update", ev);
        return updated;
    }

    Status remove(std::string_view ns, std::string_view id) override {
        GANTRY_TRY(db_->update(
            [&](metadata::WriteTxn& txn) { return metadata::containers::remove(txn, ns, id); }));
        cev::ContainerDelete ev;
        ev.set_id(std::string(id));
        deps_.publish(ns, "/containers/delete", ev);
        deps_.mark_dirty();
        return ok_status();
    }

private:
    std::shared_ptr<metadata::Database> db_;
    plugin::OptionalDeps deps_;
};

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(auto db, ctx.get_as<metadata::Database>(plugin::types::kMetadata));
    std::shared_ptr<containers::Store> store = std::make_shared<ContainerStore>(std::move(db), ctx);
    return plugin::Instance(store);
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kService),
        .id = "containers-service",
        .requires_types = {std::string(plugin::types::kMetadata)},
        .config = nullptr,
        .default_config = "",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("containers", registrations)
