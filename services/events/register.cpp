// Registers the events plugins: the exchange (io.containerd.event.v1.exchange) and the Events
// gRPC service.
//
// The exchange's instance is stored as std::shared_ptr<events::Publisher> pointing at the
// Exchange, so ctx.get_as<events::Publisher>(kEvent) — a static_pointer_cast from void — yields a
// valid Publisher. The events service takes it back with a static downcast to Exchange, valid
// because this registration is the only plugin of type kEvent.
#include "core/events/exchange.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/types.hpp"
#include "services/events/events_service.hpp"
#include "services/grpc_service.hpp"
#include "services/registrations.hpp"

namespace gantry::services {

void register_events(plugin::Registry& registry) {
    plugin::Registration exchange;
    exchange.type = std::string(plugin::types::kEvent);
    exchange.id = "exchange";
    exchange.init = [](plugin::InitContext&) -> Result<plugin::Instance> {
        std::shared_ptr<events::Publisher> pub = events::Exchange::create();
        return plugin::Instance(pub);
    };
    registry.add(std::move(exchange), "builtin");

    plugin::Registration grpc;
    grpc.type = std::string(plugin::types::kGrpc);
    grpc.id = "events";
    grpc.requires_types = {std::string(plugin::types::kEvent)};
    grpc.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto pub, ctx.get_as<events::Publisher>(plugin::types::kEvent));
        auto ex = std::static_pointer_cast<events::Exchange>(pub);
        return plugin::Instance(std::make_shared<OwnedService<EventsService>>(std::move(ex)));
    };
    registry.add(std::move(grpc), "builtin");
}

} // namespace gantry::services
