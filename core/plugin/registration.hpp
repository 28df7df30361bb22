// A plugin is one registration record: what it is (type, id), what it needs (requires), how its
// config section is read, and how it is created. Built-in and shared-object plugins use the same
// record; the registry does not care where one came from.
#pragma once

#include "core/errors.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gantry::config {
class SectionReader;
}

namespace gantry::plugin {

class InitContext;

// A plugin's instance, type-erased; consumers cast it back with InitContext::get<T>().
using Instance = std::shared_ptr<void>;
// A plugin's parsed config, type-erased; the plugin reads it back with InitContext::config<T>().
using ConfigPtr = std::shared_ptr<const void>;

struct Registration {
    std::string type;
    std::string id;
    // Types (not type.id) this plugin needs initialised first.
    std::vector<std::string> requires_types;
    // Reads the plugin's [plugins."<type>.<id>"] table. The reader reports unknown keys itself.
    // Absent: the plugin takes no configuration and any table given for it is an error.
    std::function<Result<ConfigPtr>(config::SectionReader&)> config;
    // The plugin's default section as TOML text (without the table header), for
    // `gantryd config default`. Empty when the plugin has no settings.
    std::string default_config;
    std::function<Result<Instance>(InitContext&)> init;

    std::string uri() const { return type + "." + id; }
};

} // namespace gantry::plugin
