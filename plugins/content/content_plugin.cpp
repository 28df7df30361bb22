// io.containerd.content.v1.content: the content store as services see it.
//
// The plugin requires the metadata plugin and builds both layers here: the local on-disk store
// at <root>/io.containerd.content.v1.content (LocalStore, shared by all namespaces) and the
// namespaced store over the metadata database (metadata::ContentStore). Its instance is a
// content::LocalPlugin holding both, so the content service takes `store` and the garbage
// collector takes `gc_backend`, the same object as `backend`.
#include "core/content/store.hpp"
#include "core/metadata/content.hpp"
#include "core/metadata/database.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "plugins/content/local_store.hpp"

namespace {

using namespace gantry;

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(auto db, ctx.get_as<metadata::Database>(plugin::types::kMetadata));
    GANTRY_ASSIGN_OR_RETURN(auto local, content::LocalStore::open(ctx.root()));
    auto inst = std::make_shared<content::LocalPlugin>();
    inst->backend = local;
    inst->gc_backend = local;
    inst->store = std::make_shared<metadata::ContentStore>(db, local);
    ctx.exports["root"] = ctx.root();
    return plugin::Instance(inst);
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kContent),
        .id = "content",
        .requires_types = {std::string(plugin::types::kMetadata)},
        .config = nullptr,
        .default_config = "",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("content", registrations)
