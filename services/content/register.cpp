// Registers the content plugins. Placeholder until the content service lands.
#include "services/registrations.hpp"

namespace gantry::services {

void register_content(plugin::Registry&) {}

} // namespace gantry::services
