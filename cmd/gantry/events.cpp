// `gantry events ...`: placeholder until the events commands land.
#include "cmd/gantry/commands.hpp"

namespace gantry::cli {

void register_events(CLI::App&, Globals&) {}

} // namespace gantry::cli
