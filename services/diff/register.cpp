// Registers the diff service plugin (io.containerd.service.v1 "diff-service": the configured
// differs in order, over io.containerd.differ.v1 plugins such as plugins/diff's "walking") and
// the gRPC service over it (io.containerd.grpc.v1 "diff").
#include "core/config/section_reader.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/types.hpp"
#include "services/diff/diff_service.hpp"
#include "services/diff/differ_chain.hpp"
#include "services/grpc_service.hpp"
#include "services/registrations.hpp"

namespace gantry::services {

namespace {

Result<plugin::ConfigPtr> read_config(config::SectionReader& r) {
    diff::ServiceConfig c;
    GANTRY_ASSIGN_OR_RETURN(c.order, r.get_strings("default", c.order));
    return plugin::ConfigPtr(std::make_shared<const diff::ServiceConfig>(std::move(c)));
}

Result<plugin::Instance> init_chain(plugin::InitContext& ctx) {
    const auto& cfg = ctx.config<diff::ServiceConfig>();
    auto loaded = ctx.get_all(plugin::types::kDiffer);
    std::vector<std::shared_ptr<diff::Differ>> ordered;
    for (const auto& id : cfg.order) {
        auto it = loaded.find(id);
        if (it == loaded.end()) return failed_precondition("needed differ not loaded: " + id);
        ordered.push_back(std::static_pointer_cast<diff::Differ>(it->second));
    }
    std::shared_ptr<diff::Differ> chain = std::make_shared<diff::DifferChain>(std::move(ordered));
    return plugin::Instance(chain);
}

} // namespace

void register_diff(plugin::Registry& registry) {
    plugin::Registration svc;
    svc.type = std::string(plugin::types::kService);
    svc.id = "diff-service";
    svc.requires_types = {std::string(plugin::types::kDiffer)};
    svc.config = read_config;
    svc.default_config = "default = [\"walking\"]\n";
    svc.init = init_chain;
    registry.add(std::move(svc), "builtin");

    plugin::Registration grpc;
    grpc.type = std::string(plugin::types::kGrpc);
    grpc.id = "diff";
    grpc.requires_types = {std::string(plugin::types::kService)};
    grpc.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto inst, ctx.get(plugin::types::kService, "diff-service"));
        return plugin::Instance(std::make_shared<OwnedService<DiffService>>(
            std::static_pointer_cast<diff::Differ>(inst)));
    };
    registry.add(std::move(grpc), "builtin");
}

} // namespace gantry::services
