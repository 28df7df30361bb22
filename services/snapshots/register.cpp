// Registers the snapshots service plugin (io.containerd.service.v1 "snapshots-service": one
// metadata::SnapshotStore per loaded snapshotter, the instance a snapshots::Service), the
// Snapshots gRPC service (io.containerd.grpc.v1 "snapshots") and gantry's admin addition
// (io.containerd.grpc.v1 "snapshots-admin", api/gantry/admin/v1/snapshots.proto).
#include "core/events/publisher.hpp"
#include "core/gc/collector.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/snapshots.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "core/snapshots/snapshotter.hpp"
#include "services/grpc_service.hpp"
#include "services/registrations.hpp"
#include "services/snapshots/snapshots_service.hpp"

namespace gantry::services {

namespace {

Result<plugin::Instance> init_snapshots_service(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(auto db, ctx.get_as<metadata::Database>(plugin::types::kMetadata));
    // Optional: without the scheduler, Remove marks nothing dirty (the next pass still sweeps:
    // every store starts dirty).
    std::shared_ptr<gc::Collector> collector;
    if (auto c = ctx.get_as<gc::Collector>(plugin::types::kGc); c.ok()) collector = *c;
    auto svc = std::make_shared<snapshots::Service>();
    // Each snapshotter plugin's instance is a std::shared_ptr<snapshots::Snapshotter>.
    for (auto& [id, inst] : ctx.get_all(plugin::types::kSnapshotter)) {
        auto backend = std::static_pointer_cast<snapshots::Snapshotter>(inst);
        svc->backends.emplace(id, backend);
        auto store = std::make_shared<metadata::SnapshotStore>(db, id, backend, collector);
        GANTRY_ASSIGN_OR_RETURN(std::size_t fixed, store->recover());
        if (fixed > 0) ctx.exports["recovered_commits." + id] = std::to_string(fixed);
        svc->stores.emplace(id, std::move(store));
    }
    if (svc->stores.empty()) return ctx.skip("no snapshotter loaded");
    std::string names;
    for (const auto& [id, s] : svc->stores)
        names += (names.empty() ? "" : ",") + id;
    ctx.exports["snapshotters"] = names;
    return plugin::Instance(svc);
}

Result<std::shared_ptr<snapshots::Service>> snapshots_service(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(plugin::Instance inst,
                            ctx.get(plugin::types::kService, "snapshots-service"));
    return std::static_pointer_cast<snapshots::Service>(inst);
}

} // namespace

void register_snapshots(plugin::Registry& registry) {
    plugin::Registration reg;
    reg.type = std::string(plugin::types::kService);
    reg.id = "snapshots-service";
    reg.requires_types = {std::string(plugin::types::kSnapshotter),
                          std::string(plugin::types::kMetadata)};
    reg.init = init_snapshots_service;
    registry.add(std::move(reg), "builtin");

    plugin::Registration grpc;
    grpc.type = std::string(plugin::types::kGrpc);
    grpc.id = "snapshots";
    grpc.requires_types = {std::string(plugin::types::kService)};
    grpc.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto svc, snapshots_service(ctx));
        std::shared_ptr<events::Publisher> publisher;
        if (auto p = ctx.get_as<events::Publisher>(plugin::types::kEvent); p.ok()) publisher = *p;
        return plugin::Instance(
            std::make_shared<OwnedService<SnapshotsService>>(std::move(svc), publisher));
    };
    registry.add(std::move(grpc), "builtin");

    plugin::Registration admin;
    admin.type = std::string(plugin::types::kGrpc);
    admin.id = "snapshots-admin";
    admin.requires_types = {std::string(plugin::types::kService)};
    admin.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto svc, snapshots_service(ctx));
        return plugin::Instance(std::make_shared<OwnedService<SnapshotsAdminService>>(svc));
    };
    registry.add(std::move(admin), "builtin");
}

} // namespace gantry::services
