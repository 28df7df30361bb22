// The overlayfs snapshotter (io.containerd.snapshotter.v1.overlayfs), laid out and mounting
// exactly as containerd's (protocol-facts.md §8.2):
//   <root>/metadata.lmdb/            backend state (core/snapshots/storage.hpp)
//   <root>/snapshots/<id>/fs         the snapshot's upper layer, 0755
//   <root>/snapshots/<id>/work       overlay's workdir, 0711, active snapshots only
// A child's layers are its parents' `fs` directories, nearest first, so Prepare is O(1) whatever
// the image size. Remove only edits the records; cleanup() deletes directories no record owns.
#pragma once

#include "core/errors.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace gantry::snapshots::overlay {

// The label Stat/Update/Walk add with `upperdir_label`: the active snapshot's upper directory.
inline constexpr std::string_view kUpperdirLabel = "containerd.io/snapshot/overlay.upperdir";

struct Options {
    bool upperdir_label = false;
};

// Why `root` cannot host overlay snapshots (no d_type, a test mount fails), or ok. Creates and
// removes a scratch directory under `root`.
Status check_supported(const std::filesystem::path& root);

// Opens (creating) the snapshotter rooted at `root`. Does not call check_supported().
Result<std::shared_ptr<Snapshotter>> open(const std::filesystem::path& root,
                                          const Options& options = {});

} // namespace gantry::snapshots::overlay
