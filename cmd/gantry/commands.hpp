// How a verb group plugs into the gantry CLI. Each group lives in its own file and exposes one
// register_<group>(CLI::App&, Globals&) that adds its subcommands; main.cpp calls them all.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>

namespace gantry::cli {

// The command's work; returns the process exit code.
using Action = std::function<int()>;

// The global flags, and the action of the command that was chosen.
struct Globals {
    std::string address;
    std::string ns;
    std::string timeout;         // whole-command deadline as a duration; "0" means none
    std::string connect_timeout; // how long to wait for the daemon's socket to accept us
    // Set while parsing, run after parsing succeeded: a usage error never half-runs a command.
    Action action;
};

// Makes `action` the work to do when `cmd` is the command on the command line.
void set_action(CLI::App& cmd, Globals& g, Action action);

// A command that only groups subcommands ("gantry namespaces"); given alone it prints its help.
CLI::App* add_group(CLI::App& parent, Globals& g, std::string name, std::string description);

void register_version(CLI::App& app, Globals& g);
void register_plugins(CLI::App& app, Globals& g);
void register_namespaces(CLI::App& app, Globals& g);
void register_content(CLI::App& app, Globals& g);
void register_images(CLI::App& app, Globals& g);
void register_leases(CLI::App& app, Globals& g);
void register_events(CLI::App& app, Globals& g);
void register_containers(CLI::App& app, Globals& g);
void register_snapshots(CLI::App& app, Globals& g);
void register_tasks(CLI::App& app, Globals& g);
void register_run(CLI::App& app, Globals& g);

} // namespace gantry::cli
