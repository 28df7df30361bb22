// gantry: the administrative CLI for gantryd. Verbs, flags and output follow containerd's ctr,
// so that what works with one works with the other.
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/duration.hpp"
#include "core/build_info.hpp"
#include "core/config/config.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <grpc/support/log.h>
#include <iostream>

namespace {

using gantry::cli::Globals;

// Exit codes: 0 success, 1 the command failed, 2 the command line was wrong.
constexpr int kUsageExit = 2;

const CLI::Validator kDuration(
    [](std::string& text) -> std::string {
        auto d = gantry::cli::parse_duration(text);
        return d.ok() ? std::string() : d.error().message();
    },
    "DURATION");

void add_global_flags(CLI::App& app, Globals& g) {
    g.address = std::string(gantry::config::kDefaultAddress);
    g.ns = "default";
    g.timeout = "0s";
    g.connect_timeout = "10s";
    app.add_option("-a,--address", g.address, "Path of gantryd's gRPC socket")
        ->envname("GANTRY_ADDRESS")
        ->capture_default_str();
    app.add_option("-n,--namespace", g.ns, "Namespace the command works in")
        ->envname("GANTRY_NAMESPACE")
        ->capture_default_str();
    app.add_option("--timeout", g.timeout,
                   "Deadline for the whole command, e.g. 30s or 1m30s; 0s means none")
        ->check(kDuration)
        ->capture_default_str();
    app.add_option("--connect-timeout", g.connect_timeout,
                   "How long to wait for gantryd to accept the connection")
        ->check(kDuration)
        ->capture_default_str();
}

// "gantry namespaces create": the deepest subcommand the parser got to.
std::string command_path(const CLI::App& app) {
    std::string path = app.get_name();
    for (const CLI::App* cmd = &app;;) {
        auto subs = cmd->get_subcommands();
        if (subs.empty()) break;
        cmd = subs.front();
        path += " " + cmd->get_name();
    }
    return path;
}

int usage_error(const CLI::App& app, const CLI::ParseError& e) {
    std::cerr << "gantry: " << e.what() << "\n"
              << "Run '" << command_path(app) << " --help' for usage.\n";
    return kUsageExit;
}

// gRPC's own logging would add lines to the one-line errors; the CLI reports failures itself.
void quiet_grpc_log(gpr_log_func_args*) {}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"gantry: administrative CLI for gantryd, the containerd-compatible daemon",
                 "gantry"};
    app.set_version_flag("-v,--version",
                         std::string("gantry ") + GANTRY_VERSION + " (" + GANTRY_REVISION + ")");
    // Global flags are accepted after the subcommand too: "gantry ns ls -n foo".
    app.fallthrough();

    Globals g;
    add_global_flags(app, g);
    gantry::cli::register_version(app, g);
    gantry::cli::register_plugins(app, g);
    gantry::cli::register_namespaces(app, g);
    gantry::cli::register_content(app, g);
    gantry::cli::register_images(app, g);
    gantry::cli::register_leases(app, g);
    gantry::cli::register_events(app, g);
    gantry::cli::register_containers(app, g);
    gantry::cli::register_snapshots(app, g);
    gantry::cli::register_tasks(app, g);
    gantry::cli::register_run(app, g);
    // Set after the subcommands exist, which would otherwise inherit it.
    app.footer("Flags beat environment variables, which beat the defaults.");
    app.callback([&] {
        if (!g.action)
            g.action = [&app] {
                std::cout << app.help();
                return 0;
            };
    });

    // `gantry run IMAGE ID CMD ARG...` takes everything after ID as the command, dashes included,
    // as ctr does; every other command still refuses arguments it does not expect.
    app.allow_extras();
    try {
        app.parse(argc, argv);
        auto* run = app.get_subcommand("run");
        if (!run->parsed() && !app.remaining().empty()) throw CLI::ExtrasError(app.remaining());
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage_error(app, e);
    }
    if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(quiet_grpc_log);
    return g.action();
}
