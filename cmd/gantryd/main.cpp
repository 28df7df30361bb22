// gantryd: the daemon's command line. Flags override the config file; `config default` and
// `config dump` print configurations without starting anything.
#include "cmd/gantryd/daemon.hpp"
#include "core/build_info.hpp"
#include "core/config/config.hpp"
#include "core/log.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

namespace {

struct Flags {
    std::string config_path{gantry::config::kDefaultConfigPath};
    std::string root, state, address, log_level, plugin_dir;
};

int print_error(const gantry::Error& e) {
    std::cerr << "gantryd: " << e.message() << "\n";
    return 1;
}

gantry::Result<gantry::config::Config> effective_config(const Flags& f, bool config_given) {
    GANTRY_ASSIGN_OR_RETURN(auto cfg, gantry::config::load_config(f.config_path, config_given));
    if (!f.root.empty()) cfg.root = f.root;
    if (!f.state.empty()) cfg.state = f.state;
    if (!f.address.empty()) cfg.grpc.address = f.address;
    if (!f.log_level.empty()) cfg.log_level = f.log_level;
    if (!f.plugin_dir.empty()) cfg.plugin_dir = f.plugin_dir;
    for (const auto* p : {&cfg.root, &cfg.state})
        if (p->empty() || p->front() != '/')
            return gantry::invalid_argument("root and state must be absolute paths, got \"" + *p +
                                            "\"");
    return cfg;
}

int print_config(const gantry::config::Config& cfg, bool effective) {
    gantry::plugin::Registry registry;
    // Plugins are loaded (not started) so that their default sections can be shown.
    (void)gantry::log::setup("error", "text");
    if (auto st = gantry::daemon::collect_plugins(cfg, registry); !st.ok())
        return print_error(st.error());
    if (effective)
        if (auto st = registry.read_configs(cfg); !st.ok()) return print_error(st.error());
    std::cout << gantry::config::render_top_level(cfg) << "\n"
              << registry.render_plugin_defaults(effective ? &cfg : nullptr);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"gantryd: a container daemon that speaks containerd 1.6's API", "gantryd"};
    app.set_version_flag("-v,--version", std::string("gantryd ") + GANTRY_VERSION + " (" +
                                             GANTRY_REVISION + "), containerd API " +
                                             GANTRY_WIRE_VERSION);
    Flags f;
    auto* cfg_opt =
        app.add_option("-c,--config", f.config_path, "Path to the TOML configuration file")
            ->capture_default_str();
    app.add_option("--root", f.root, "Directory for persistent data (default /var/lib/gantry)");
    app.add_option("--state", f.state, "Directory for runtime state (default /run/gantry)");
    app.add_option("-a,--address", f.address,
                   "Unix socket path for the gRPC API (default /run/gantry/gantryd.sock)");
    app.add_option("-l,--log-level", f.log_level,
                   "Log level: trace, debug, info, warn, error or fatal")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "fatal"}));
    app.add_option("--plugin-dir", f.plugin_dir,
                   "Directory of plugin shared objects (default <exe>/../lib/gantry/plugins)");

    auto* config_cmd = app.add_subcommand("config", "Print configurations");
    config_cmd->require_subcommand(1);
    auto* def_cmd = config_cmd->add_subcommand("default", "Print the default configuration");
    auto* dump_cmd = config_cmd->add_subcommand(
        "dump", "Print the effective configuration: file, then flags, then plugin defaults");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    const bool config_given = cfg_opt->count() > 0;

    if (def_cmd->parsed()) {
        gantry::config::Config defaults;
        defaults.plugins = gantry::config::parse_config("", "")->plugins;
        return print_config(defaults, false);
    }
    auto cfg = effective_config(f, config_given);
    if (!cfg.ok()) return print_error(cfg.error());
    if (dump_cmd->parsed()) return print_config(*cfg, true);

    if (auto st = gantry::log::setup(cfg->log_level, cfg->log_format); !st.ok())
        return print_error(st.error());
    return gantry::daemon::run(std::move(cfg).value());
}
