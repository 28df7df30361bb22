// Disk usage of an ACTIVE btrfs snapshot that has a parent (protocol-facts §8.1: walked for an
// active snapshot, recorded at commit for a committed one).
//
// A snapshot made from a parent shares every unchanged extent with it, so walking the whole
// subvolume would charge the child for its parent's files. Like containerd (continuity's
// DiffUsage), only what differs from the parent counts: an entry the parent lacks, or one whose
// inode, size, mode or change time differ (a btrfs snapshot keeps inode numbers and times, so an
// untouched file compares equal). Hard links count once. Deletions free nothing in the child and
// count zero. (A snapshot without a parent is measured whole: snapshots::disk_usage.)
#pragma once

#include "core/errors.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <filesystem>

namespace gantry::snapshots::btrfs {

// What `upper` adds or changes relative to `lower` (a snapshot of which it started as).
Result<Usage> diff_usage(const std::filesystem::path& lower, const std::filesystem::path& upper);

} // namespace gantry::snapshots::btrfs
