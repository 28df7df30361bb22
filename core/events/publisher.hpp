// Where services and plugins send the events containerd publishes (/images/create,
// /content/delete, ...). The exchange (io.containerd.event.v1.exchange) implements it; anything
// that publishes requires that plugin type and takes this interface from its InitContext.
#pragma once

#include "core/errors.hpp"

#include <string_view>

namespace google::protobuf {
class Message;
}

namespace gantry::events {

class Publisher {
public:
    virtual ~Publisher() = default;
    // Wraps `event` in an Envelope (UTC now, `ns`, `topic`, Any with the bare full proto name as
    // type URL, protocol-facts §1.4) and delivers it to every matching subscriber. Never blocks
    // on a slow subscriber. Fails only for an invalid namespace or topic (InvalidArgument).
    virtual Status publish(std::string_view ns, std::string_view topic,
                           const google::protobuf::Message& event) = 0;
};

} // namespace gantry::events
