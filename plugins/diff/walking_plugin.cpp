// io.containerd.differ.v1.walking: the differ over the content store (plugins/content). Its
// instance is a std::shared_ptr<diff::Differ>; the diff service tries differs in its configured
// order. Temporary mount points live under <state>/io.containerd.differ.v1.walking.
#include "core/content/store.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "plugins/diff/walking_differ.hpp"

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

Result<plugin::Instance> init(plugin::InitContext& ctx) {
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
