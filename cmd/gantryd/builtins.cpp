#include "cmd/gantryd/builtins.hpp"

#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "services/grpc_service.hpp"
#include "services/health/health_service.hpp"
#include "services/introspection/introspection_service.hpp"
#include "services/version/version_service.hpp"

namespace gantry::daemon {

namespace {

template <typename S, typename... Args>
plugin::Instance serve(Args&&... args) {
    return std::make_shared<services::OwnedService<S>>(std::forward<Args>(args)...);
}

plugin::Registration grpc_plugin(std::string id, std::vector<std::string> requires_types,
                                 std::function<Result<plugin::Instance>(plugin::InitContext&)> init) {
    plugin::Registration r;
    r.type = std::string(plugin::types::kGrpc);
    r.id = std::move(id);
    r.requires_types = std::move(requires_types);
    r.init = std::move(init);
    return r;
}

} // namespace

void register_builtins(plugin::Registry& registry) {
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
}

} // namespace gantry::daemon
