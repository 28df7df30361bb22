// What a plugin sees while it initialises: its directories, its parsed config, the daemon's
// config, and the instances of plugins initialised before it.
#pragma once

#include "core/config/config.hpp"
#include "core/plugin/registration.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::plugin {

class Registry;

class InitContext {
public:
    InitContext(const Registration& reg, const config::Config& daemon, ConfigPtr cfg,
                const Registry& registry);

    const Registration& registration() const { return reg_; }
    const config::Config& daemon_config() const { return daemon_; }
    // <root>/<type>.<id> and <state>/<type>.<id>; created by the plugin when it needs them.
    const std::string& root() const { return root_; }
    const std::string& state() const { return state_; }

    template <typename T>
    const T& config() const {
        return *static_cast<const T*>(cfg_.get());
    }

    // The first initialised plugin of `type`; NotFound if none is ok.
    Result<Instance> get(std::string_view type) const;
    Result<Instance> get(std::string_view type, std::string_view id) const;
    // Every initialised plugin of `type`, by id.
    std::map<std::string, Instance> get_all(std::string_view type) const;

    template <typename T>
    Result<std::shared_ptr<T>> get_as(std::string_view type) const {
        GANTRY_ASSIGN_OR_RETURN(Instance i, get(type));
        return std::static_pointer_cast<T>(i);
    }

    // Shown by introspection.
    std::map<std::string, std::string> exports;
    std::vector<std::string> capabilities;
    std::vector<std::string> platforms;

    // A skip is a result, not a failure: `return ctx.skip("not on btrfs");`
    Error skip(std::string reason);
    const std::string& skip_reason() const { return skip_reason_; }
    bool skipped() const { return !skip_reason_.empty(); }

private:
    Registration reg_; // a copy: plugins may keep their context beyond init
    const config::Config& daemon_;
    ConfigPtr cfg_;
    const Registry& registry_;
    std::string root_;
    std::string state_;
    std::string skip_reason_;
};

} // namespace gantry::plugin
