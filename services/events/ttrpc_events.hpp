// containerd.services.events.ttrpc.v1.Events over ttrpc (protocol-facts §1.1, §10.4): the
// endpoint shims send their task events to. Forward only; the envelope goes into the same
// exchange, with the same validation, as gRPC Events.Forward.
#pragma once

#include <memory>

namespace gantry::events {
class Exchange;
}
namespace gantry::ttrpc {
class Server;
}

namespace gantry::services {

inline constexpr char kTtrpcEventsService[] = "containerd.services.events.ttrpc.v1.Events";

void register_ttrpc_events(ttrpc::Server& server, std::shared_ptr<events::Exchange> exchange);

} // namespace gantry::services
