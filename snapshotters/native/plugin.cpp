// io.containerd.snapshotter.v1.native: registers the native snapshotter; its root is the
// plugin's directory <root>/io.containerd.snapshotter.v1.native. Instance: the
// std::shared_ptr<snapshots::Snapshotter> (the snapshots service wraps it per namespace).
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "snapshotters/native/native.hpp"

namespace {

using namespace gantry;

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(auto sn, snapshots::native::open(ctx.root()));
    ctx.exports["root"] = ctx.root();
    return plugin::Instance(std::move(sn));
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kSnapshotter),
        .id = "native",
        .requires_types = {},
        .config = nullptr,
        .default_config = "",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("snapshotter-native", registrations)
