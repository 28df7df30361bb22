// Holds every plugin registration, orders them by their requirements, initialises them and keeps
// one status per plugin. A failing plugin never stops the others: a cycle, a missing or failed
// requirement, a bad .so or an init error marks the plugins involved and the rest start.
#pragma once

#include "core/config/config.hpp"
#include "core/plugin/registration.hpp"

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::plugin {

enum class State { Pending, Ok, Skipped, Error };
std::string_view state_name(State s);

// The pseudo type under which a shared object that could not be loaded is listed: its plugins
// are unknown, but the failure must still be visible in `plugins ls`.
inline constexpr std::string_view kSharedObjectType = "io.gantry.sharedobject.v1";

struct PluginRecord {
    Registration reg;
    std::string source; // "builtin" or the .so path
    State state = State::Pending;
    std::string message; // skip reason or error text
    Errc error_code = Errc::Unknown;
    Instance instance;
    std::map<std::string, std::string> exports;
    std::vector<std::string> capabilities;
    std::vector<std::string> platforms;
};

class Registry {
public:
    void add(Registration reg, std::string source);
    // A shared object that could not be loaded, listed as an error under kSharedObjectType.
    void add_failed_object(std::string path, Error err);

    // Reads every plugin's config section. Errors here are configuration errors (unknown key,
    // bad type) and stop the daemon before anything starts, like any other config error.
    Status read_configs(const config::Config& cfg);

    // Orders by requirements and initialises. Disabled plugins are dropped first, as containerd
    // does: they do not appear in listings.
    void init_all(const config::Config& cfg);

    // Snapshot of the records in initialisation order.
    std::vector<PluginRecord> records() const;
    // Used by InitContext and by services to find instances.
    Result<Instance> find(std::string_view type, std::string_view id) const;
    std::vector<std::pair<std::string, Instance>> find_all(std::string_view type) const;

    // Default sections of every registered plugin, as TOML text, for `config default`.
    std::string render_plugin_defaults(const config::Config* effective) const;

private:
    std::vector<std::size_t> order();

    mutable std::mutex mu_;
    std::vector<PluginRecord> records_;
    std::map<std::string, ConfigPtr> configs_;
};

} // namespace gantry::plugin
