// `gantry images ...`: placeholder until the images commands land.
#include "cmd/gantry/commands.hpp"

namespace gantry::cli {

void register_images(CLI::App&, Globals&) {}

} // namespace gantry::cli
