// Registers the content gRPC service (io.containerd.grpc.v1 "content"). The store itself is the
// content.so plugin (io.containerd.content.v1 "content", plugins/content), whose instance is a
// content::LocalPlugin.
#include "core/content/store.hpp"
#include "core/events/publisher.hpp"
#include "core/gc/collector.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"
#include "services/content/content_service.hpp"
#include "services/grpc_service.hpp"
#include "services/registrations.hpp"

namespace gantry::services {

namespace {

Result<plugin::Instance> init_content_service(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(auto local, ctx.get_as<content::LocalPlugin>(plugin::types::kContent));
    // Optional until the exchange and the scheduler are required (see the context notes): a
    // missing one means Delete publishes no event / marks nothing dirty.
    std::shared_ptr<events::Publisher> publisher;
    if (auto p = ctx.get_as<events::Publisher>(plugin::types::kEvent); p.ok()) publisher = *p;
    std::shared_ptr<gc::Collector> collector;
    if (auto c = ctx.get_as<gc::Collector>(plugin::types::kGc); c.ok()) collector = *c;
    return plugin::Instance(
        std::make_shared<OwnedService<ContentService>>(local->store, publisher, collector));
}

} // namespace

void register_content(plugin::Registry& registry) {
    plugin::Registration r;
    r.type = std::string(plugin::types::kGrpc);
    r.id = "content";
    r.requires_types = {std::string(plugin::types::kContent)};
    r.init = init_content_service;
    registry.add(std::move(r), "builtin");
}

} // namespace gantry::services
