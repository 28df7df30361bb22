// Where a path lives: whether it is on btrfs, and which block device backs it (the `source` of
// every mount the snapshotter hands out, protocol-facts §8.1: type "btrfs", source = device).
#pragma once

#include "core/errors.hpp"

#include <filesystem>
#include <string>

namespace gantry::snapshots::btrfs {

// statfs(2) magic of `path`, or of its nearest existing ancestor when `path` does not exist yet
// (so the plugin can decide to skip without creating its root first).
Result<bool> on_btrfs(const std::filesystem::path& path);

// The mount that holds `path`, as /proc/self/mountinfo tells it.
struct MountEntry {
    std::filesystem::path mount_point;
    std::string fs_type;
    std::string source; // e.g. /dev/loop3, /dev/vdb
};

// The innermost (longest mount point; the later of stacked ones) mount containing the canonical
// form of `path`. `mountinfo_text` is the file's content (a parameter so tests can feed one).
Result<MountEntry> mount_of(const std::filesystem::path& path, std::string_view mountinfo_text);
Result<MountEntry> mount_of(const std::filesystem::path& path);

} // namespace gantry::snapshots::btrfs
