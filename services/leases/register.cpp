// Registers the leases gRPC service (io.containerd.grpc.v1.leases, over the leases-service plugin
// that plugins/leases ships as a .so) and the garbage collection scheduler
// (io.containerd.gc.v1.scheduler), which is built in because the lease manager, images and
// content all need it.
#include "core/config/section_reader.hpp"
#include "core/content/store.hpp"
#include "core/gc/content_backend.hpp"
#include "core/gc/gc.hpp"
#include "core/gc/scheduler.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/leases.hpp"
#include "core/metadata/snapshots.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "core/snapshots/snapshotter.hpp"
#include "services/grpc_service.hpp"
#include "services/leases/leases_service.hpp"
#include "services/registrations.hpp"

namespace gantry::services {

namespace {

// The content store's disk, from the content plugin (io.containerd.content.v1.content, whose
// instance is a content::LocalPlugin). Looked up at every pass, so the content plugin may start
// later or be absent: then only metadata is collected. See core/gc/gc.hpp for the locking rule
// the content store follows so that a pass never removes a blob being committed.
std::shared_ptr<gc::ContentBackend> content_backend(const plugin::Registry& registry) {
    auto found = registry.find(plugin::types::kContent, "content");
    if (!found.ok()) return nullptr;
    return std::static_pointer_cast<content::LocalPlugin>(*found)->gc_backend;
}

// The snapshot stores of the snapshots service (io.containerd.service.v1.snapshots-service,
// services/snapshots), found like the content backend: at each pass until it is there.
std::vector<std::shared_ptr<metadata::SnapshotStore>>
snapshot_stores(const plugin::Registry& registry) {
    std::vector<std::shared_ptr<metadata::SnapshotStore>> out;
    auto found = registry.find(plugin::types::kService, "snapshots-service");
    if (!found.ok()) return out;
    auto svc = std::static_pointer_cast<snapshots::Service>(*found);
    for (const auto& [name, store] : svc->stores)
        if (auto meta = std::dynamic_pointer_cast<metadata::SnapshotStore>(store))
            out.push_back(std::move(meta));
    return out;
}

Result<plugin::Instance> init_scheduler(plugin::InitContext& ctx, plugin::Registry& registry) {
    GANTRY_ASSIGN_OR_RETURN(auto db, ctx.get_as<metadata::Database>(plugin::types::kMetadata));
    const auto& cfg = ctx.config<gc::SchedulerConfig>();
    // Runs on the scheduler's thread only. Once found, the backend is kept, so passes stop
    // touching the registry (which matters while the daemon tears the registry down).
    auto collect = [db, &registry, backend = std::shared_ptr<gc::ContentBackend>(),
                    stores = std::vector<std::shared_ptr<metadata::SnapshotStore>>()]() mutable
        -> Result<gc::Stats> {
        if (!backend) backend = content_backend(registry);
        if (stores.empty()) stores = snapshot_stores(registry);
        std::vector<gc::SnapshotBackend> sbs;
        for (const auto& s : stores)
            sbs.push_back({s->snapshotter_name(), s->backend(), &s->gc_lock(), s->take_dirty()});
        auto stats = gc::collect(*db, backend.get(), sbs);
        if (!stats.ok()) // sweep them again next time
            for (std::size_t i = 0; i < stores.size(); ++i)
                if (sbs[i].dirty) stores[i]->set_dirty();
        return stats;
    };
    std::shared_ptr<gc::Collector> scheduler = std::make_shared<gc::Scheduler>(cfg, collect);
    ctx.exports["startup_delay_ms"] = std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg.startup_delay).count());
    return plugin::Instance(scheduler);
}

} // namespace

void register_leases(plugin::Registry& registry) {
    plugin::Registration sched;
    sched.type = std::string(plugin::types::kGc);
    sched.id = "scheduler";
    sched.requires_types = {std::string(plugin::types::kMetadata)};
    sched.config = [](config::SectionReader& r) -> Result<plugin::ConfigPtr> {
        GANTRY_ASSIGN_OR_RETURN(gc::SchedulerConfig c, gc::read_scheduler_config(r));
        return plugin::ConfigPtr(std::make_shared<const gc::SchedulerConfig>(c));
    };
    sched.default_config = gc::default_scheduler_config();
    sched.init = [&registry](plugin::InitContext& ctx) { return init_scheduler(ctx, registry); };
    registry.add(std::move(sched), "builtin");

    plugin::Registration grpc;
    grpc.type = std::string(plugin::types::kGrpc);
    grpc.id = "leases";
    grpc.requires_types = {std::string(plugin::types::kService)};
    grpc.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(plugin::Instance m,
                                ctx.get(plugin::types::kService, "leases-service"));
        return plugin::Instance(std::make_shared<OwnedService<LeasesService>>(
            std::static_pointer_cast<metadata::leases::Manager>(m)));
    };
    registry.add(std::move(grpc), "builtin");
}

} // namespace gantry::services
