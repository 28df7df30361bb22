// io.containerd.snapshotter.v1.overlayfs: registers the overlayfs snapshotter with its root at
// <root>/io.containerd.snapshotter.v1.overlayfs. When that filesystem cannot host overlay (no
// d_type, overlay on overlay, no overlay module) the plugin is skipped with the reason, as
// containerd does, and the daemon runs without it.
//
// Config: [plugins."io.containerd.snapshotter.v1.overlayfs"] upperdir_label = false
#include "core/config/section_reader.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "snapshotters/overlay/overlay.hpp"

namespace {

using namespace gantry;

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    const auto& opts = ctx.config<snapshots::overlay::Options>();
    if (auto st = snapshots::overlay::check_supported(ctx.root()); !st.ok())
        return ctx.skip(st.error().message());
    GANTRY_ASSIGN_OR_RETURN(auto sn, snapshots::overlay::open(ctx.root(), opts));
    ctx.exports["root"] = ctx.root();
    return plugin::Instance(std::move(sn));
}

Result<plugin::ConfigPtr> read_config(config::SectionReader& r) {
    snapshots::overlay::Options o;
    GANTRY_ASSIGN_OR_RETURN(o.upperdir_label, r.get_bool("upperdir_label", o.upperdir_label));
    return plugin::ConfigPtr(std::make_shared<const snapshots::overlay::Options>(o));
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kSnapshotter),
        .id = "overlayfs",
        .requires_types = {},
        .config = read_config,
        .default_config = "upperdir_label = false\n",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("snapshotter-overlayfs", registrations)
