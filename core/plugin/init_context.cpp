#include "core/plugin/init_context.hpp"

#include "core/plugin/registry.hpp"

namespace gantry::plugin {

InitContext::InitContext(const Registration& reg, const config::Config& daemon, ConfigPtr cfg,
                         const Registry& registry)
    : reg_(reg), daemon_(daemon), cfg_(std::move(cfg)), registry_(registry),
      root_(daemon.root + "/" + reg.uri()), state_(daemon.state + "/" + reg.uri()) {}

Result<Instance> InitContext::get(std::string_view type) const {
    return registry_.find(type, "");
}

Result<Instance> InitContext::get(std::string_view type, std::string_view id) const {
    return registry_.find(type, id);
}

std::map<std::string, Instance> InitContext::get_all(std::string_view type) const {
    std::map<std::string, Instance> out;
    for (auto& [id, inst] : registry_.find_all(type))
        out.emplace(id, inst);
    return out;
}

Error InitContext::skip(std::string reason) {
    skip_reason_ = reason.empty() ? std::string("skipped") : std::move(reason);
    return Error(Errc::Unknown, skip_reason_ + ": skip plugin");
}

} // namespace gantry::plugin
