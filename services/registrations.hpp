// Each API area registers its plugins (gRPC service, and any built-in core plugin it owns)
// from its own folder; gantryd's builtins call these in one place.
#pragma once

#include "core/plugin/registry.hpp"

namespace gantry::services {

void register_events(plugin::Registry& registry);
void register_content(plugin::Registry& registry);
void register_images(plugin::Registry& registry);
void register_leases(plugin::Registry& registry);
void register_containers(plugin::Registry& registry);
void register_tasks(plugin::Registry& registry);
void register_diff(plugin::Registry& registry);
void register_snapshots(plugin::Registry& registry);

} // namespace gantry::services
