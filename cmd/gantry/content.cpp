// `gantry content ...`: placeholder until the content commands land.
#include "cmd/gantry/commands.hpp"

namespace gantry::cli {

void register_content(CLI::App&, Globals&) {}

} // namespace gantry::cli
