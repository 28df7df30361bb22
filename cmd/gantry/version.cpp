// gantry version: this client's build and the daemon's, in ctr's layout.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/output.hpp"
#include "core/build_info.hpp"
#include "services/introspection/v1/introspection.grpc.pb.h"
#include "services/version/v1/version.grpc.pb.h"

#include <iostream>

namespace gantry::cli {
namespace {

namespace version_v1 = containerd::services::version::v1;
namespace introspection_v1 = containerd::services::introspection::v1;

Status show_version(const Globals& g) {
    std::cout << "Client:\n"
              << "  Version:  " << GANTRY_VERSION << "\n"
              << "  Revision: " << GANTRY_REVISION << "\n"
              << "  API:      " << GANTRY_WIRE_VERSION << "\n\n"
              << std::flush;

    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    version_v1::VersionResponse version;
    auto version_stub = version_v1::Version::NewStub(client.channel());
    GANTRY_TRY(client.call([&](grpc::ClientContext* ctx) {
        return version_stub->Version(ctx, google::protobuf::Empty{}, &version);
    }));
    std::cout << "Server:\n"
              << "  Version:  " << version.version() << "\n"
              << "  Revision: " << version.revision() << "\n";

    introspection_v1::ServerResponse server;
    auto introspection_stub = introspection_v1::Introspection::NewStub(client.channel());
    GANTRY_TRY(client.call([&](grpc::ClientContext* ctx) {
        return introspection_stub->Server(ctx, google::protobuf::Empty{}, &server);
    }));
    std::cout << "  UUID: " << server.uuid() << "\n" << std::flush;

    // The server reports the containerd API version it speaks, tagged with its own version.
    if (version.version() != GANTRY_WIRE_VERSION) std::cerr << "WARNING: version mismatch\n";
    if (version.revision() != GANTRY_REVISION) std::cerr << "WARNING: revision mismatch\n";
    return ok_status();
}

} // namespace

void register_version(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand("version", "Print the client and server versions");
    cmd->footer("The Server section comes from the Version and Introspection.Server RPCs; a "
                "warning on stderr notes a client/server version or revision mismatch.");
    set_action(*cmd, g, [&g] { return finish(show_version(g)); });
}

} // namespace gantry::cli
