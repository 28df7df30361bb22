// btrfs subvolumes through the kernel's ioctls (linux/btrfs.h), without btrfs-progs or
// libbtrfsutil: the handful of calls the snapshotter needs are a few lines each, and calling the
// kernel directly keeps the plugin free of a library dependency and of child processes.
//
// Every path names the subvolume itself; the ioctls act on its parent directory, which is opened
// with O_DIRECTORY|O_NOFOLLOW so a symlink planted in place of a directory is refused.
#pragma once

#include "core/errors.hpp"

#include <cstdint>
#include <filesystem>

namespace gantry::snapshots::btrfs {

// Creates an empty subvolume at `path` (its parent must exist). AlreadyExists if taken.
Status create_subvolume(const std::filesystem::path& path);

// Snapshots the subvolume `source` at `dest`; `read_only` makes the new one immutable (the
// kernel refuses every write to it, EROFS).
Status snapshot_subvolume(const std::filesystem::path& source, const std::filesystem::path& dest,
                          bool read_only);

// Deletes the subvolume at `path`, first deleting any subvolume nested inside it (a container
// may have created one in its rootfs; the kernel refuses to delete a subvolume that has
// children). NotFound when `path` does not exist; InvalidArgument when it is not a subvolume.
Status delete_subvolume(const std::filesystem::path& path);

// The subvolume (tree) id of the subvolume containing `path`: what `subvolid=` mounts.
Result<std::uint64_t> subvolume_id(const std::filesystem::path& path);

// True when `path` is the root directory of a subvolume (its inode number is the first free
// object id, 256, which only subvolume roots have).
Result<bool> is_subvolume(const std::filesystem::path& path);

Result<bool> is_read_only(const std::filesystem::path& path);

} // namespace gantry::snapshots::btrfs
