// gantry events [filter...]: prints every event the daemon publishes, one line each, as ctr
// does: TIMESTAMP NAMESPACE TOPIC EVENT (the event as JSON). Streams until interrupted.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/go_json.hpp"
#include "cmd/gantry/output.hpp"
#include "services/events/v1/events.grpc.pb.h"

#include <ctime>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <iostream>
#include <memory>
#include <vector>

namespace gantry::cli {
namespace {

namespace evv1 = containerd::services::events::v1;
namespace pb = google::protobuf;

// The event as JSON with proto field names (ctr marshals the decoded Go struct, whose JSON tags
// are the proto names). Unknown types print nothing, where ctr would skip the line.
std::string event_json(const evv1::Envelope& e) {
    if (!e.has_event()) return "";
    const auto* desc =
        pb::DescriptorPool::generated_pool()->FindMessageTypeByName(e.event().type_url());
    if (desc == nullptr) return "";
    const pb::Message* proto = pb::MessageFactory::generated_factory()->GetPrototype(desc);
    if (proto == nullptr) return "";
    std::unique_ptr<pb::Message> msg(proto->New());
    if (!msg->ParseFromString(e.event().value())) return "";
    pb::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    std::string out;
    if (!pb::util::MessageToJsonString(*msg, &out, opts).ok()) return "";
    return out;
}

Status stream_events(const Globals& g, const std::vector<std::string>& filters) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = evv1::Events::NewStub(client.channel());
    evv1::SubscribeRequest request;
    for (const auto& f : filters)
        request.add_filters(f);
    grpc::ClientContext ctx;
    client.prepare(ctx);
    auto reader = stub->Subscribe(&ctx, request);
    evv1::Envelope e;
    while (reader->Read(&e)) {
        std::cout << go_time_string(e.timestamp().seconds(), e.timestamp().nanos()) << " "
                  << e.namespace_() << " " << e.topic() << " " << event_json(e) << std::endl;
    }
    return client.check(reader->Finish());
}

} // namespace

void register_events(CLI::App& app, Globals& g) {
    auto filters = std::make_shared<std::vector<std::string>>();
    auto* cmd = app.add_subcommand(
        "events", "Display the daemon's events as they happen, in every namespace, until "
                  "interrupted: TIMESTAMP NAMESPACE TOPIC EVENT (JSON)");
    cmd->alias("event");
    cmd->add_option("filters", *filters,
                    "Filters, OR-ed; each is comma-separated selectors, AND-ed, on namespace, "
                    "topic and event.<field>, e.g. 'topic==\"/images/create\"'")
        ->type_name("FILTER");
    set_action(*cmd, g, [&g, filters] { return finish(stream_events(g, *filters)); });
}

} // namespace gantry::cli
