// The btrfs snapshotter (io.containerd.snapshotter.v1.btrfs): every snapshot is a subvolume.
//
// Layout under the root (containerd's, so a root can be inspected the same way):
//   metadata.lmdb/     the crash-safe records (core/snapshots/storage.hpp)
//   active/<id>        writable subvolume of an ACTIVE snapshot
//   view/<id>          read-only snapshot of the parent for a VIEW
//   snapshots/<id>     read-only subvolume of a COMMITTED snapshot
//   <dir>/new-<rand>   being built (never owned by a record)
//   <dir>/rm-<rand>    being deleted by cleanup() (never owned by a record)
//
// Mounts: one `btrfs` mount of the filesystem's block device with `subvolid=<id>` (and `ro` for
// anything not ACTIVE), exactly what containerd returns, so a client mounts the subvolume
// directly and never needs a path inside our root.
//
// Crash safety. Each change runs inside one storage write transaction (which also serialises
// writers), and the subvolume and the record become visible together:
//   prepare/view  1. record the snapshot (fresh id)      2. build <dir>/new-<rand>
//                 3. rename it to <dir>/<id>             4. commit the transaction
//   commit        1. record the commit (same id)         2. read-only snapshot of active/<id>
//                    at snapshots/new-<rand>             3. rename to snapshots/<id>
//                 4. commit the transaction              5. delete active/<id>
//   remove        1. delete the record                   2. commit the transaction
//                 3. delete <dir>/<id>
// A crash at any point leaves at worst a subvolume that no record owns (new-*, an <id> whose
// record never committed or was removed, active/<id> of a committed snapshot); cleanup() deletes
// those. A record never points at a missing subvolume (the SIGKILL test checks exactly that).
// The id of a record that never committed goes back to the pool, so building at <dir>/<id>
// first deletes an orphan already there.
#pragma once

#include "core/snapshots/snapshotter.hpp"
#include "core/snapshots/storage.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace gantry::snapshots::btrfs {

class BtrfsSnapshotter final : public Snapshotter {
public:
    // `root` must lie on btrfs (FailedPrecondition otherwise; the plugin checks first and skips).
    // Creates it (0700) and its layout when missing.
    static Result<std::shared_ptr<BtrfsSnapshotter>> open(const std::filesystem::path& root);

    Result<Info> stat(std::string_view key) override;
    Result<Info> update(const Info& info, std::span<const std::string> paths) override;
    Result<Usage> usage(std::string_view key) override;
    Result<Mounts> mounts(std::string_view key) override;
    Result<Mounts> prepare(std::string_view key, std::string_view parent,
                           const Labels& labels) override;
    Result<Mounts> view(std::string_view key, std::string_view parent,
                        const Labels& labels) override;
    Status commit(std::string_view name, std::string_view key, const Labels& labels) override;
    Status remove(std::string_view key) override;
    Status walk(const filters::Filter* filter, const WalkFn& fn) override;
    Status cleanup() override;

    const std::filesystem::path& root() const { return root_; }
    const std::string& device() const { return device_; }

private:
    BtrfsSnapshotter(std::filesystem::path root, std::string device,
                     std::shared_ptr<storage::MetaStore> ms)
        : root_(std::move(root)), device_(std::move(device)), ms_(std::move(ms)) {}

    std::filesystem::path dir_of(Kind kind) const;
    std::filesystem::path path_of(Kind kind, std::uint64_t id) const;
    Result<Mounts> make(Kind kind, std::string_view key, std::string_view parent,
                        const Labels& labels);
    Result<Mounts> mounts_for(Kind kind, std::uint64_t id) const;
    Result<Usage> active_usage(std::string_view key);

    std::filesystem::path root_;
    std::string device_;
    std::shared_ptr<storage::MetaStore> ms_;
};

} // namespace gantry::snapshots::btrfs
