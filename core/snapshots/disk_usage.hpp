// Disk usage of a directory tree as containerd reports it for snapshots: every inode counted
// once (hard links deduplicated, the root included) and the blocks it occupies (st_blocks * 512),
// so sparse files count what they really use.
#pragma once

#include "core/errors.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <filesystem>

namespace gantry::snapshots {

Result<Usage> disk_usage(const std::filesystem::path& root);

} // namespace gantry::snapshots
