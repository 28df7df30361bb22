// A faithful copy of a directory tree, as the native snapshotter needs for Prepare: modes,
// owners, xattrs, access and modification times, symlinks, hard links (within the tree), device
// nodes, FIFOs and sockets. File data is reflinked (FICLONE) where the filesystem can share
// extents (btrfs, xfs), else copied in the kernel with copy_file_range.
#pragma once

#include "core/errors.hpp"

#include <filesystem>

namespace gantry::snapshots::native {

// Copies the contents of `src` into the existing directory `dst` and gives `dst` the metadata of
// `src`. Symlinks are copied as links, never followed.
Status copy_tree(const std::filesystem::path& src, const std::filesystem::path& dst);

} // namespace gantry::snapshots::native
