// The plugins compiled into gantryd, registered explicitly in one place (no static
// initialisers): the metadata store and the gRPC services of services/.
#pragma once

#include "core/plugin/registry.hpp"

namespace gantry::daemon {

void register_builtins(plugin::Registry& registry);

} // namespace gantry::daemon
