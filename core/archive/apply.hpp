// Applying one OCI/Docker layer (an uncompressed tar stream) onto a directory, safely
// (protocol-facts.md §8.6, DESIGN.md §6).
//
// Safety model: the root is pinned with an O_PATH fd and every entry's parent directory is
// opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so symlinks already in the tree
// (from this or earlier layers) are resolved as if the root were "/": a layer can never make us
// write, link, chown or delete outside the root. The final component is then handled with *at()
// calls and O_NOFOLLOW / AT_SYMLINK_NOFOLLOW; a new entry is created with O_EXCL after the old
// one is removed (unless both are directories, which merge). Entries are read with libarchive
// (ustar, pax, GNU tar incl. sparse files and long names).
//
// What is refused (InvalidArgument, the message names the entry): a path that is absolute or
// climbs out of the root with "..", a whiteout whose target is not in the same directory
// ("..", "."), a hard link whose target escapes the root or is a directory / device, device
// nodes unless allowed, entry sizes < 0 or > limits.max_entry_size, paths or link targets longer
// than PATH_MAX, xattrs over the size limits, and a truncated or corrupt tar. Paths like
// "./a/../b" that stay inside are cleaned and accepted. Symlink targets are stored unchanged
// (absolute targets are fine: they are resolved inside the root when followed).
//
// Like containerd: trusted.* xattrs in a layer are ignored (trusted.overlay.* would steer the
// overlay mount), as are unsupported xattrs (ENOTSUP) and user.* on entries that cannot carry
// them; entries that resolve to the root itself are ignored; directory times are set after all
// entries, since creating children changes them.
#pragma once

#include "core/archive/decompress.hpp"
#include "core/errors.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace gantry::archive {

enum class WhiteoutMode {
    // The root is a full view (a bind mount, or a mounted overlay): `.wh.<name>` deletes
    // <name>; `.wh..wh..opq` deletes every entry of its directory this layer did not create.
    Remove,
    // The root is an overlay upperdir written directly: `.wh.<name>` becomes a character device
    // 0:0 named <name> owned by the entry's uid/gid; `.wh..wh..opq` becomes the xattr
    // trusted.overlay.opaque="y" on its directory.
    OverlayUpper,
};

enum class DeviceNodes {
    Refuse, // InvalidArgument (the default: a layer has no business creating devices)
    Create, // mknod, as containerd does outside a user namespace
    Skip,   // ignored, as containerd does inside a user namespace
};

struct ApplyLimits {
    std::int64_t max_entry_size = std::int64_t{64} << 30; // 64 GiB per file
    std::size_t max_xattr_value = 64 * 1024;              // the kernel's XATTR_SIZE_MAX
    std::size_t max_xattrs_per_entry = 1024;
    std::uint64_t max_entries = 10'000'000;
};

struct ApplyOptions {
    WhiteoutMode whiteouts = WhiteoutMode::Remove;
    // OverlayUpper only: the lower layers' directories, topmost first. A parent directory that
    // the layer needs but does not contain is created with the mode, owner, times and
    // (non-trusted) xattrs of the first lower that has it as a directory; 0755 root:root if none.
    std::vector<std::filesystem::path> lower_dirs;
    DeviceNodes devices = DeviceNodes::Refuse;
    // Whether to chown entries to the tar's uid/gid (off: everything belongs to the caller).
    bool preserve_ownership = true;
    ApplyLimits limits;
    // Polled between entries and data blocks; set -> Canceled.
    const std::atomic<bool>* cancel = nullptr;
};

struct ApplyStats {
    std::uint64_t entries = 0;     // tar entries read (incl. whiteouts and ignored ones)
    std::int64_t bytes = 0;        // sum of entry sizes (containerd's Apply return value)
    std::uint64_t files = 0;       // regular files written
    std::uint64_t directories = 0; // directories created or merged
    std::uint64_t symlinks = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t specials = 0;      // fifos and device nodes
    std::uint64_t whiteouts = 0;     // .wh.<name> entries
    std::uint64_t opaques = 0;       // .wh..wh..opq entries
    std::uint64_t ignored = 0;       // root entries, skipped devices, pax globals
    std::int64_t trailing_bytes = 0; // bytes after the end-of-archive marker (drained)
};

// Applies the uncompressed tar `tar_stream` onto `root` (an existing directory). Reads the
// stream to its end, so a digesting source upstream sees every byte. On error the root may hold
// part of the layer (the caller discards the snapshot), but nothing outside it was touched.
Result<ApplyStats> apply_layer(ByteSource& tar_stream, const std::filesystem::path& root,
                               const ApplyOptions& options = {});

} // namespace gantry::archive
