#include "services/events/ttrpc_events.hpp"

#include "core/events/exchange.hpp"
#include "core/ttrpc/server.hpp"
#include "services/ttrpc/events/v1/events.pb.h"

namespace gantry::services {

void register_ttrpc_events(ttrpc::Server& server, std::shared_ptr<events::Exchange> exchange) {
    server.register_method(
        kTtrpcEventsService, "Forward",
        [exchange = std::move(exchange)](std::string_view payload,
                                         const ttrpc::CallContext&) -> Result<std::string> {
            containerd::services::events::ttrpc::v1::ForwardRequest req;
            if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
                return internal_error("ttrpc: error unmarshalling payload");
            // The ttrpc and gRPC envelopes share field numbers: convert through the bytes.
            events::Envelope env;
            if (!env.ParseFromString(req.envelope().SerializeAsString()))
                return internal_error("ttrpc: cannot convert the envelope");
            GANTRY_TRY(exchange->forward(std::move(env)));
            return std::string(); // google.protobuf.Empty
        });
}

} // namespace gantry::services
