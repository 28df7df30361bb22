// The crash-safe private state of a snapshotter backend (protocol-facts.md §5.4): which snapshots
// exist, their numeric ids (the names of their directories), kinds, parents, labels and the usage
// recorded at commit. Every backend (native, overlayfs, btrfs) keeps one of these in its own LMDB
// environment at `<snapshotter root>/metadata.lmdb/`, separate from the daemon's metadata.
//
// A backend runs each operation inside ONE write transaction together with its filesystem work:
//
//     auto tx = ms.begin_write();            // serialises writers
//     auto s = create(*tx, Kind::active, key, parent, labels);
//     ... build snapshots/new-XXXX, rename to snapshots/<s.id> ...
//     tx->commit();                          // record and directory appear together
//
// so a crash before commit leaves only an orphan directory (removed by cleanup()) and never a
// record without its data. Ids are never reused; commit keeps the active snapshot's id so the
// directory on disk does not move.
//
// Errors follow containerd's storage package: AlreadyExists for a taken key or name; NotFound for
// a missing key or parent; InvalidArgument for a parent that is not committed;
// FailedPrecondition for commit of a non-active snapshot, get_active() of a committed one and
// remove of a snapshot with children.
#pragma once

#include "core/errors.hpp"
#include "core/metadata/lmdb.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::snapshots::storage {

// What a backend needs to build or mount an active or view snapshot.
struct Snapshot {
    std::uint64_t id = 0;
    Kind kind = Kind::unknown;
    std::vector<std::uint64_t> parent_ids; // nearest parent first
};

struct Record {
    std::uint64_t id = 0;
    Info info;
    Usage usage; // recorded at commit; zero for active and view snapshots
};

struct Removed {
    std::uint64_t id = 0;
    Kind kind = Kind::unknown;
};

class MetaStore {
public:
    // Opens (creating if needed) `<root>/metadata.lmdb/`. `root` must exist.
    static Result<std::shared_ptr<MetaStore>> open(const std::filesystem::path& root);

    Result<metadata::ReadTxn> begin_read() const { return env_.begin_read(); }
    Result<metadata::WriteTxn> begin_write() { return env_.begin_write(); }

private:
    explicit MetaStore(metadata::Env env) : env_(std::move(env)) {}
    metadata::Env env_;
};

// A new ACTIVE or VIEW record with a fresh id; returns it with the parent chain.
Result<Snapshot> create(metadata::WriteTxn& tx, Kind kind, std::string_view key,
                        std::string_view parent, const Labels& labels);
// An ACTIVE or VIEW snapshot for mounting: FailedPrecondition for a committed one.
Result<Snapshot> get_active(const metadata::Txn& tx, std::string_view key);
Result<Record> get_info(const metadata::Txn& tx, std::string_view key);
// Labels only; paths as in Store::update ("labels", "labels.<k>", none = replace all).
Result<Info> update_info(metadata::WriteTxn& tx, const Info& info,
                         std::span<const std::string> paths);
// ACTIVE `key` becomes COMMITTED `name` with the same id and parent, `labels` (not inherited) and
// `usage`; the parent's child link moves to `name`. Returns the id.
Result<std::uint64_t> commit_active(metadata::WriteTxn& tx, std::string_view key,
                                    std::string_view name, const Usage& usage,
                                    const Labels& labels);
Result<Removed> remove(metadata::WriteTxn& tx, std::string_view key);
// Every record (in key order) that `filter` (may be null) matches. The callback runs after the
// records were read, so it may itself use the store.
Status walk(const metadata::Txn& tx, const filters::Filter* filter, const WalkFn& fn);
// Every record's id with its key: what cleanup() keeps.
Result<std::map<std::uint64_t, std::string>> id_map(const metadata::Txn& tx);
// Keys of the direct children of `key`.
Result<std::vector<std::string>> children(const metadata::Txn& tx, std::string_view key);

// The filter fields of a snapshot as containerd exposes them: name, parent, kind
// ("active", "view", "committed"), labels.<k>.
bool matches(const filters::Filter* filter, const Info& info);
std::string_view kind_name(Kind k) noexcept;

} // namespace gantry::snapshots::storage
