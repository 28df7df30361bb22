// The other direction of a layer (protocol-facts §8.6): the changes that turn one directory
// tree (lower) into another (upper), written as an OCI layer tar.
//
// What is written, and why it looks as it does:
// - Added and changed entries with their mode, numeric owner (no names: a layer must not carry
//   the host's user database), xattrs, and mtime truncated to whole seconds (containerd does the
//   same so a rounded timestamp never looks like a change on the next diff). Sockets are skipped.
// - A deleted entry is a `.wh.<name>` whiteout; a directory whose lower entries are all gone
//   (it was replaced) gets one `.wh..wh..opq` marker instead of a whiteout per entry.
// - The parent directories of every written entry are written too, so an applier recreates
//   their metadata even when only a child changed.
// - Hard links within the upper tree are kept: the first name is the file, later names link to
//   it. A name that did not change but shares an inode with a written one is written as a link.
// - Order is deterministic: a depth-first walk with names in byte order. Whiteouts and markers
//   carry the mtime of their directory, so one tree pair always gives the same bytes.
//
// Change detection follows containerd's walking differ: entries differ when type, mode, owner,
// device number or xattrs differ; files also when size or mtime seconds differ, or (when both
// mtimes have zero nanoseconds, i.e. may have been truncated by an earlier unpack) content.
#pragma once

#include "core/errors.hpp"

#include <filesystem>
#include <functional>
#include <string_view>

namespace gantry::archive {

// Receives the tar stream in order, in chunks of any size. An error stops the diff.
using ByteSink = std::function<Status(std::string_view)>;

// Walks both trees. `lower` may be empty: then every entry of `upper` is added.
Status write_diff(const std::filesystem::path& lower, const std::filesystem::path& upper,
                  const ByteSink& sink);

// The overlay fast path: `upperdir` is the upper directory of an overlay whose lower layers,
// merged, are visible at `lower`. Only the upperdir is walked: a character device 0:0 is a
// deletion, a directory with the opaque xattr (trusted.overlay.opaque or user.overlay.opaque
// "y") replaces its lower directory. Entries the copy-up left unchanged are compared against
// `lower` as in write_diff(), so both paths give the same layer.
// FailedPrecondition when the upperdir uses overlay features this walk cannot read (redirected
// directories, metacopy files): the caller falls back to write_diff() over mounted trees.
Status write_overlay_diff(const std::filesystem::path& lower, const std::filesystem::path& upperdir,
                          const ByteSink& sink);

} // namespace gantry::archive
