// The namespaced snapshot store (containerd's metadata/snapshot.go): per-namespace records over
// one shared backend snapshotter (protocol-facts §5.3, §8.1).
//
// Records (schema.hpp):
//   v1/<ns>/snapshots/<sn>/<key>   name = backend key "<ns>/<seq>/<key>"; parent = <parent key>
//                                  (absent for roots); createdat, updatedat; [children] <key>="";
//                                  [labels] (all labels; only containerd.io/snapshot/* and
//                                  containerd.io/snapshot.ref reach the backend)
//   v1/<ns>/snapshots/<sn>         value `sequence` (ours, bolt keeps it as bucket metadata):
//                                  the last <seq> handed out, a zigzag varint. Snapshot keys are
//                                  buckets, so a value of that name cannot collide with one.
// and, under a lease, v1/<ns>/leases/<id>/snapshots/<sn>/<key>.
//
// Order of backend calls and metadata transactions, chosen so that a crash at any point leaves
// at worst backend data that no record names (which GC removes), never a record without data:
// - Prepare/View: txn 1 checks key, parent and ref target and takes a seq; the backend creates
//   "<ns>/<seq>/<key>"; txn 2 writes the record, the parent's child link and the lease entry. If
//   txn 2 fails (a racing Prepare of the same key won), the new backend snapshot is removed.
// - Commit, journaled (containerd commits in the backend inside its bolt txn, and a crash after
//   the backend commit leaves the old record naming data that is gone; the crash test found
//   exactly that): txn 1 writes the new record (new seq, child link, lease) beside the old one
//   and marks the old one `committing` = <name>; the backend commits; txn 2 drops the old
//   record. If the backend refuses, txn 1 is undone. recover(), run when the store is created
//   by the daemon, finishes or undoes an interrupted commit by asking the backend which of the
//   two snapshots exists.
// - Remove: metadata only; the backend data goes at the next GC pass (mark_dirty).
// - GC removes backend snapshots that no record names. It holds gc_lock() exclusively while it
//   does, and every operation above holds it shared, so GC never sees the window between a
//   backend Prepare and the record that names it.
#pragma once

#include "core/gc/collector.hpp"
#include "core/metadata/database.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>

namespace gantry::metadata {

class SnapshotStore final : public snapshots::Store {
public:
    // `collector` may be null (nothing is marked dirty). It is held weakly: the collector's
    // passes hold the stores, and a cycle would keep both alive past shutdown.
    SnapshotStore(std::shared_ptr<Database> db, std::string snapshotter,
                  std::shared_ptr<snapshots::Snapshotter> backend,
                  std::shared_ptr<gc::Collector> collector = nullptr)
        : db_(std::move(db)), name_(std::move(snapshotter)), backend_(std::move(backend)),
          collector_(collector) {}

    Result<snapshots::Info> stat(std::string_view ns, std::string_view key) override;
    Result<snapshots::Info> update(std::string_view ns, const snapshots::Info& info,
                                   std::span<const std::string> paths) override;
    Result<snapshots::Usage> usage(std::string_view ns, std::string_view key) override;
    Result<snapshots::Mounts> mounts(std::string_view ns, std::string_view key) override;
    Result<snapshots::Mounts> prepare(std::string_view ns, std::string_view lease,
                                      std::string_view key, std::string_view parent,
                                      const snapshots::Labels& labels) override;
    Result<snapshots::Mounts> view(std::string_view ns, std::string_view lease,
                                   std::string_view key, std::string_view parent,
                                   const snapshots::Labels& labels) override;
    Status commit(std::string_view ns, std::string_view lease, std::string_view name,
                  std::string_view key, const snapshots::Labels& labels) override;
    Status remove(std::string_view ns, std::string_view key) override;
    Status walk(std::string_view ns, const filters::Filter* filter,
                const snapshots::WalkFn& fn) override;

    // Finishes or undoes commits a crash interrupted (see above); returns how many. Run before
    // the store serves requests.
    Result<std::size_t> recover();

    const std::string& snapshotter_name() const noexcept { return name_; }
    const std::shared_ptr<snapshots::Snapshotter>& backend() const noexcept { return backend_; }
    void set_collector(const std::shared_ptr<gc::Collector>& c) { collector_ = c; }

    // Held shared by every operation, exclusively by the collector while it removes backend
    // snapshots that no record names (see above).
    std::shared_mutex& gc_lock() noexcept { return gc_lock_; }
    // Whether a record was removed since the last call (true at first, so the first GC pass
    // after a start also removes what a crash left behind); clears the flag.
    bool take_dirty() noexcept { return dirty_.exchange(false); }
    void set_dirty() noexcept { dirty_ = true; }

    // The daemon-side prune (the Cleanup RPC, `gantry snapshots prune`): with gc_lock() held
    // exclusively, removes every backend snapshot that no record of any namespace names (leaves
    // first; one whose child is still there stays) and then runs the backend's cleanup(), which
    // removes directories and mounts no backend snapshot owns. With `dry_run` it only lists.
    // Returns the backend keys removed (or that would be).
    Result<std::vector<std::string>> prune(bool dry_run);

private:
    Result<snapshots::Mounts> create(std::string_view ns, std::string_view lease,
                                     std::string_view key, std::string_view parent,
                                     const snapshots::Labels& labels, bool readonly);

    std::shared_ptr<Database> db_;
    std::string name_;
    std::shared_ptr<snapshots::Snapshotter> backend_;
    std::weak_ptr<gc::Collector> collector_;
    std::shared_mutex gc_lock_;
    std::atomic<bool> dirty_{true};
};

// Backend keys ("<ns>/<seq>/<key>") named by any namespace's records of `snapshotter`.
Result<std::vector<std::string>> referenced_backend_keys(const Txn& txn,
                                                         std::string_view snapshotter);

// Backend snapshots of `backend` that no record names, leaves first (each before its parent).
// The caller holds the store's gc_lock() (shared is enough to list; exclusive to act on it).
Result<std::vector<std::string>> orphaned_backend_keys(const Database& db,
                                                       std::string_view snapshotter,
                                                       snapshots::Snapshotter& backend);

// What prune() does, for a caller that holds the store's lock itself (the collector). Counts
// in `removed` what the backend really removed.
Result<std::vector<std::string>> prune_backend(const Database& db, std::string_view snapshotter,
                                               snapshots::Snapshotter& backend, bool dry_run,
                                               std::size_t* removed = nullptr);

} // namespace gantry::metadata
