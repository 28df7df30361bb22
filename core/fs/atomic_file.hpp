// Small file helpers with the crash-safety rules of DESIGN.md §6: a file is either the old
// version or the new one, never a torn mix.
#pragma once

#include "core/errors.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace gantry::fs {

// Whole file, refusing files larger than `max_size` (InvalidArgument) so a hostile or corrupt
// file cannot make us allocate without bound.
Result<std::string> read_file(const std::string& path, std::size_t max_size);
// Temp name in the same directory, write, fsync, rename over `path`, fsync the directory.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode);
// mkdir -p; existing directories keep their mode.
Status mkdir_all(const std::string& path, mode_t mode);
// From the kernel's CSPRNG.
Result<std::string> random_bytes(std::size_t n);

} // namespace gantry::fs
