// Registers the Tasks gRPC service (io.containerd.grpc.v1.tasks) over the runtime v2 task
// manager (io.containerd.runtime.v2.task, plugins/runtime) and the containers store
// (io.containerd.service.v1.containers-service); checkpoints go to the content store
// (io.containerd.content.v1), through <state>/io.containerd.grpc.v1.tasks.
#include "core/content/store.hpp"
#include "core/metadata/containers.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/types.hpp"
#include "core/runtime/task_manager.hpp"
#include "services/grpc_service.hpp"
#include "services/registrations.hpp"
#include "services/tasks/tasks_service.hpp"

namespace gantry::services {

void register_tasks(plugin::Registry& registry) {
    plugin::Registration grpc;
    grpc.type = std::string(plugin::types::kGrpc);
    grpc.id = "tasks";
    grpc.requires_types = {std::string(plugin::types::kService),
                           std::string(plugin::types::kRuntimeV2),
                           std::string(plugin::types::kContent)};
    grpc.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto c, ctx.get(plugin::types::kService, "containers-service"));
        GANTRY_ASSIGN_OR_RETURN(auto t, ctx.get(plugin::types::kRuntimeV2, "task"));
        // Without a content store, tasks still run; only checkpoints are refused.
        auto local = ctx.get_as<content::LocalPlugin>(plugin::types::kContent);
        return plugin::Instance(std::make_shared<OwnedService<TasksService>>(
            std::static_pointer_cast<runtime::TaskManager>(t),
            std::static_pointer_cast<containers::Store>(c), local.ok() ? (*local)->store : nullptr,
            ctx.state()));
    };
    registry.add(std::move(grpc), "builtin");
}

} // namespace gantry::services
