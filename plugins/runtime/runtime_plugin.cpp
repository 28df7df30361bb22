// io.containerd.runtime.v2.task: the runtime v2 task manager as a plugin. Its instance is a
// std::shared_ptr<runtime::TaskManager>; the Tasks gRPC service is built on it.
//
// Configuration ([plugins."io.containerd.runtime.v2.task"]):
//   shims = ["io.containerd.runc.v2=/usr/local/bin/containerd-shim-runc-v2", ...]
// pins the shim binary of a runtime name; other names resolve as containerd does (§10.1).
#include "core/config/section_reader.hpp"
#include "core/events/publisher.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "plugins/runtime/task_manager.hpp"

namespace {

using namespace gantry;

struct RuntimeConfig {
    std::map<std::string, std::string, std::less<>> shims;
};

Result<plugin::ConfigPtr> read_config(config::SectionReader& r) {
    RuntimeConfig c;
    GANTRY_ASSIGN_OR_RETURN(auto shims, r.get_strings("shims", {}));
    for (const auto& s : shims) {
        const auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == s.size() || s[eq + 1] != '/')
            return r.error_at("shims", "entry \"" + s + "\" is not RUNTIME=/absolute/path/to/shim");
        c.shims[s.substr(0, eq)] = s.substr(eq + 1);
    }
    GANTRY_TRY(r.finish());
    return plugin::ConfigPtr(std::make_shared<const RuntimeConfig>(std::move(c)));
}

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    const auto& cfg = ctx.config<RuntimeConfig>();
    runtime::ManagerConfig mc;
    mc.state = ctx.state();
    mc.root = ctx.root();
    mc.grpc_address = ctx.daemon_config().grpc.address;
    mc.ttrpc_address = ctx.daemon_config().grpc.address + ".ttrpc";
    mc.shim_overrides = cfg.shims;
    auto ev = ctx.get_as<events::Publisher>(plugin::types::kEvent);
    auto manager = std::make_shared<runtime::Manager>(mc, ev.ok() ? *ev : nullptr);
    manager->reload();
    ctx.exports["state"] = ctx.state();
    std::shared_ptr<runtime::TaskManager> tm = manager;
    return plugin::Instance(tm);
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kRuntimeV2),
        .id = "task",
        .requires_types = {std::string(plugin::types::kEvent)},
        .config = read_config,
        .default_config = "shims = []\n",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("runtime", registrations)
