// Finds plugin shared objects in a directory and adds their registrations to a registry.
// Anything wrong with a file (not an ELF, missing symbol, other ABI or build) becomes an error
// record for that file; loading never throws and never crashes the daemon.
#pragma once

#include "core/errors.hpp"
#include "core/plugin/registry.hpp"

#include <string>

namespace gantry::plugin {

// Loads every `*.so` in `dir` (sorted by name, for a stable order). An unreadable directory is
// an error for the caller; problems with single files are recorded in the registry.
Status load_directory(const std::string& dir, Registry& registry);

// Loads one file. The library stays mapped for the life of the process: plugin instances and
// their code must outlive every caller.
Status load_file(const std::string& path, Registry& registry);

} // namespace gantry::plugin
