// `gantry leases ...`: placeholder until the leases commands land.
#include "cmd/gantry/commands.hpp"

namespace gantry::cli {

void register_leases(CLI::App&, Globals&) {}

} // namespace gantry::cli
