// io.containerd.snapshotter.v1.btrfs. Skips (a result, not a failure) when its root is not on
// btrfs, as containerd does, so a daemon on ext4 or xfs lists it as `skip` with the reason.
//
// Config ([plugins."io.containerd.snapshotter.v1.btrfs"]):
//   root_path = "/some/btrfs/dir"   # default: <root>/io.containerd.snapshotter.v1.btrfs
#include "core/config/section_reader.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "snapshotters/btrfs/btrfs_snapshotter.hpp"
#include "snapshotters/btrfs/filesystem.hpp"

namespace {

using namespace gantry;

struct Config {
    std::string root_path;
};

Result<plugin::ConfigPtr> parse(config::SectionReader& r) {
    auto cfg = std::make_shared<Config>();
    GANTRY_ASSIGN_OR_RETURN(cfg->root_path, r.get_string("root_path", ""));
    GANTRY_TRY(r.finish());
    return plugin::ConfigPtr(cfg);
}

std::string default_platform() {
#if defined(__x86_64__)
    return "linux/amd64";
#elif defined(__aarch64__)
    return "linux/arm64/v8";
#elif defined(__arm__)
    return "linux/arm/v7";
#else
    return "linux";
#endif
}

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    ctx.platforms = {default_platform()};
    const auto& cfg = ctx.config<Config>();
    const std::string root = cfg.root_path.empty() ? ctx.root() : cfg.root_path;
    GANTRY_ASSIGN_OR_RETURN(bool btrfs, snapshots::btrfs::on_btrfs(root));
    if (!btrfs) {
        auto mnt = snapshots::btrfs::mount_of(root);
        std::string type = mnt.ok() ? " (" + mnt->fs_type + ")" : "";
        return ctx.skip(root + type + " is not on a btrfs filesystem");
    }
    GANTRY_ASSIGN_OR_RETURN(auto sn, snapshots::btrfs::BtrfsSnapshotter::open(root));
    ctx.exports["root"] = root;
    return plugin::Instance(std::static_pointer_cast<snapshots::Snapshotter>(sn));
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kSnapshotter),
        .id = "btrfs",
        .requires_types = {},
        .config = parse,
        .default_config = "root_path = \"\"\n",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("btrfs", registrations)
