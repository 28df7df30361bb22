// gantryd's life: lock the root, load and start plugins, serve gRPC, stop cleanly on a signal.
#pragma once

#include "core/config/config.hpp"
#include "core/plugin/registry.hpp"

namespace gantry::daemon {

// Where plugins are looked for when the config names no plugin_dir: beside the executable, at
// ../lib/gantry/plugins, which is right both installed and in a build tree.
std::string default_plugin_dir();

// Registers built-ins and loads the plugin directory (no init). An unreadable directory is an
// error; bad files inside it are recorded per file.
Status collect_plugins(const config::Config& cfg, plugin::Registry& registry);

// Runs until SIGTERM or SIGINT. Returns the process exit code.
int run(config::Config cfg);

} // namespace gantry::daemon
