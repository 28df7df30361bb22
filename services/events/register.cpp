// Registers the events plugins. Placeholder until the events service lands.
#include "services/registrations.hpp"

namespace gantry::services {

void register_events(plugin::Registry&) {}

} // namespace gantry::services
