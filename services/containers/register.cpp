// Registers the Containers gRPC service (io.containerd.grpc.v1.containers). Its store is the
// io.containerd.service.v1.containers-service plugin (plugins/containers, a shared object), whose
// instance is a std::shared_ptr<containers::Store>.
#include "core/metadata/containers.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/types.hpp"
#include "services/containers/containers_service.hpp"
#include "services/grpc_service.hpp"
#include "services/registrations.hpp"

namespace gantry::services {

void register_containers(plugin::Registry& registry) {
    plugin::Registration grpc;
    grpc.type = std::string(plugin::types::kGrpc);
    grpc.id = "containers";
    grpc.requires_types = {std::string(plugin::types::kService)};
    grpc.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto inst, ctx.get(plugin::types::kService, "containers-service"));
        auto store = std::static_pointer_cast<containers::Store>(inst);
        return plugin::Instance(
            std::make_shared<OwnedService<ContainersService>>(std::move(store)));
    };
    registry.add(std::move(grpc), "builtin");
}

} // namespace gantry::services
