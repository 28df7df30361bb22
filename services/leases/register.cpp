// Registers the leases plugins. Placeholder until the leases service lands.
#include "services/registrations.hpp"

namespace gantry::services {

void register_leases(plugin::Registry&) {}

} // namespace gantry::services
