// Registers the images plugins. Placeholder until the images service lands.
#include "services/registrations.hpp"

namespace gantry::services {

void register_images(plugin::Registry&) {}

} // namespace gantry::services
