// io.containerd.differ.v1.walking: the differ over the content store (plugins/content). Its
// instance is a std::shared_ptr<diff::Differ>; the diff service tries differs in its configured
// order. Temporary mount points live under <state>/io.containerd.differ.v1.walking.
#include "core/content/store.hpp"
#include "core/log.hpp"
#include "core/mount/mount.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "plugins/diff/walking_differ.hpp"

#include <filesystem>

namespace {

using namespace gantry;

// The host platform, as containerd's platforms.DefaultSpec() names it.
constexpr const char* host_platform() {
#if defined(__x86_64__)
    return "linux/amd64";
#elif defined(__aarch64__)
    return "linux/arm64/v8";
#else
    return "linux";
#endif
}

// Temporary mount points left by a daemon that died mid-apply: unmounted and removed before
// the differ takes new ones, so they neither pile up nor pin the snapshots they show.
void clean_state(const std::filesystem::path& state) {
    std::error_code ec;
    if (!std::filesystem::exists(state, ec)) return;
    if (auto mps = mount::mount_points_under(state); mps.ok()) {
        for (const auto& mp : *mps)
            if (auto s = mount::unmount_all(mp); !s.ok())
                log::warn("differ: cannot unmount stale {}: {}", mp.string(), s.error().message());
    }
    // remove(), never remove_all(): a mount point that would not unmount still shows a
    // snapshot, and an empty directory is all a released temporary mount leaves.
    for (const auto& e : std::filesystem::directory_iterator(state, ec)) {
        std::error_code rm;
        std::filesystem::remove(e.path(), rm);
        if (rm) log::warn("differ: cannot remove stale {}: {}", e.path().string(), rm.message());
    }
}

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    clean_state(ctx.state());
    GANTRY_ASSIGN_OR_RETURN(auto content,
                            ctx.get_as<content::LocalPlugin>(plugin::types::kContent));
    std::shared_ptr<diff::Differ> differ =
        std::make_shared<diff::WalkingDiffer>(content->store, ctx.state());
    ctx.platforms.push_back(host_platform());
    return plugin::Instance(differ);
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kDiffer),
        .id = "walking",
        .requires_types = {std::string(plugin::types::kMetadata),
                           std::string(plugin::types::kContent)},
        .config = nullptr,
        .default_config = "",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("diff", registrations)
