// The native snapshotter (io.containerd.snapshotter.v1.native): every snapshot is a plain
// directory `<root>/snapshots/<id>`, and Prepare copies the parent's whole tree (reflinked where
// the filesystem can). Works on any filesystem, mounts are rbinds; slow and space-hungry on
// filesystems without reflinks, which is why overlayfs is the default.
#pragma once

#include "core/errors.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <filesystem>
#include <memory>

namespace gantry::snapshots::native {

// Opens (creating) the snapshotter rooted at `root`.
Result<std::shared_ptr<Snapshotter>> open(const std::filesystem::path& root);

} // namespace gantry::snapshots::native
