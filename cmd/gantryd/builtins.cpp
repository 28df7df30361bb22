#include "cmd/gantryd/builtins.hpp"

#include "core/events/publisher.hpp"
#include "core/log.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/migrations.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "services/grpc_service.hpp"
#include "services/health/health_service.hpp"
#include "services/introspection/introspection_service.hpp"
#include "services/namespaces/namespaces_service.hpp"
#include "services/registrations.hpp"
#include "services/version/version_service.hpp"

namespace gantry::daemon {

namespace {

template <typename S, typename... Args>
plugin::Instance serve(Args&&... args) {
    return std::make_shared<services::OwnedService<S>>(std::forward<Args>(args)...);
}

plugin::Registration
grpc_plugin(std::string id, std::vector<std::string> requires_types,
            std::function<Result<plugin::Instance>(plugin::InitContext&)> init) {
    plugin::Registration r;
    r.type = std::string(plugin::types::kGrpc);
    r.id = std::move(id);
    r.requires_types = std::move(requires_types);
    r.init = std::move(init);
    return r;
}

// io.containerd.metadata.v1.lmdb: the namespaced metadata store, opened (and migrated) once.
Result<plugin::Instance> open_metadata(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(metadata::Database db,
                            metadata::Database::open(ctx.daemon_config().root));
    auto shared = std::make_shared<metadata::Database>(std::move(db));
    ctx.exports["path"] = shared->path().string();
    return plugin::Instance(shared);
}

} // namespace

void register_builtins(plugin::Registry& registry) {
    // Order matters where a plugin looks another up without requiring it (optional links):
    // events and the GC scheduler (registered with leases) come before their users.
    services::register_events(registry);
    services::register_leases(registry);
    services::register_content(registry);
    services::register_images(registry);
    services::register_containers(registry);
    services::register_tasks(registry);
    services::register_diff(registry);
    services::register_snapshots(registry);
    plugin::Registration meta;
    meta.type = std::string(plugin::types::kMetadata);
    meta.id = "lmdb";
    meta.init = open_metadata;
    registry.add(std::move(meta), "builtin");
    registry.add(grpc_plugin("version", {},
                             [](plugin::InitContext&) -> Result<plugin::Instance> {
                                 return serve<services::VersionService>();
                             }),
                 "builtin");
    registry.add(grpc_plugin("healthcheck", {},
                             [](plugin::InitContext&) -> Result<plugin::Instance> {
                                 return serve<services::HealthService>();
                             }),
                 "builtin");
    registry.add(grpc_plugin("introspection", {},
                             [&registry](plugin::InitContext& ctx) -> Result<plugin::Instance> {
                                 return serve<services::IntrospectionService>(registry, ctx.root());
                             }),
                 "builtin");
    // Events are optional for namespaces: without an exchange nothing is published. The
    // exchange is registered first (register_events above), so it is up before this runs.
    registry.add(grpc_plugin("namespaces", {std::string(plugin::types::kMetadata)},
                             [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
                                 GANTRY_ASSIGN_OR_RETURN(auto db, ctx.get_as<metadata::Database>(
                                                                      plugin::types::kMetadata));
                                 auto ev = ctx.get_as<events::Publisher>(plugin::types::kEvent);
                                 return serve<services::NamespacesService>(std::move(db),
                                                                           ev.ok() ? *ev : nullptr);
                             }),
                 "builtin");
}

} // namespace gantry::daemon
