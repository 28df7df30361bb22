#include "core/metadata/snapshots.hpp"

#include "core/filters/adaptor.hpp"
#include "core/filters/filter.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/metadata/lease_resources.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/value_encoding.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>

namespace gantry::metadata {

namespace {

using snapshots::Info;
using snapshots::Kind;

// Our stand-in for bolt's per-bucket NextSequence (see snapshots.hpp).
constexpr std::string_view kSequence = "sequence";

Timestamp now_ts() {
    return to_timestamp(std::chrono::system_clock::now());
}

std::string lease_type(std::string_view snapshotter) {
    return "snapshots/" + std::string(snapshotter);
}

Error no_snapshot(std::string_view key) {
    return not_found("snapshot " + std::string(key) + " does not exist");
}

snapshots::Labels inherited(const snapshots::Labels& labels) {
    snapshots::Labels out;
    for (const auto& [k, v] : labels)
        if (k == snapshots::kRefLabel ||
            std::string_view(k).starts_with(snapshots::kInheritedLabelPrefix))
            out.emplace(k, v);
    return out;
}

void drop_empty(snapshots::Labels& m) {
    std::erase_if(m, [](const auto& kv) { return kv.second.empty(); });
}

Status validate(const snapshots::Labels& labels) {
    if (auto st = validate_labels(labels); !st.ok()) return st.error().wrap("info.Labels");
    return {};
}

// What a record holds; `bkey` is the backend key.
struct Record {
    Info info; // name, parent, times, labels (kind comes from the backend)
    std::string bkey;
};

Result<std::optional<Record>> read_record(const Txn& txn, const BucketPath& sn,
                                          std::string_view key) {
    const BucketPath b = sn.child(key);
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, b));
    if (!exists) return std::optional<Record>();
    Record r;
    r.info.name = std::string(key);
    GANTRY_ASSIGN_OR_RETURN(auto name, get_value(txn, b, schema::kName));
    if (name) r.bkey = *name;
    GANTRY_ASSIGN_OR_RETURN(auto parent, get_value(txn, b, schema::kParent));
    if (parent) r.info.parent = *parent;
    GANTRY_ASSIGN_OR_RETURN(auto created, get_value(txn, b, schema::kCreatedAt));
    if (created) {
        GANTRY_ASSIGN_OR_RETURN(r.info.created_at, decode_time(*created));
    }
    GANTRY_ASSIGN_OR_RETURN(auto updated, get_value(txn, b, schema::kUpdatedAt));
    if (updated) {
        GANTRY_ASSIGN_OR_RETURN(r.info.updated_at, decode_time(*updated));
    }
    GANTRY_ASSIGN_OR_RETURN(r.info.labels, read_labels(txn, b));
    return std::optional<Record>(std::move(r));
}

Result<std::uint64_t> next_sequence(WriteTxn& txn, const BucketPath& sn) {
    GANTRY_ASSIGN_OR_RETURN(auto cur, get_value(txn, sn, kSequence));
    std::int64_t seq = 0;
    if (cur) {
        GANTRY_ASSIGN_OR_RETURN(seq, decode_varint(*cur));
    }
    ++seq;
    GANTRY_TRY(put_value(txn, sn, kSequence, encode_varint(seq)));
    return static_cast<std::uint64_t>(seq);
}

std::string backend_key(std::string_view ns, std::uint64_t seq, std::string_view key) {
    return std::string(ns) + "/" + std::to_string(seq) + "/" + std::string(key);
}

// containerd's overlayInfo: the backend's kind (and its labels, under ours) with our name,
// parent, times and labels.
Info overlay(const Info& backend, const Info& local) {
    Info out = local;
    out.kind = backend.kind == Kind::unknown ? Kind::committed : backend.kind;
    for (const auto& [k, v] : backend.labels)
        out.labels.try_emplace(k, v);
    return out;
}

std::string_view kind_name(Kind k) {
    switch (k) {
    case Kind::view:
        return "view";
    case Kind::active:
        return "active";
    case Kind::committed:
        return "committed";
    case Kind::unknown:
        break;
    }
    return "unknown";
}

bool matches(const filters::Filter* filter, const Info& info) {
    if (filter == nullptr || filter->matches_everything()) return true;
    filters::FieldsAdaptor a;
    a.add("kind", kind_name(info.kind))
        .add("name", info.name, filters::Presence::always)
        .add("parent", info.parent, filters::Presence::always)
        .add_map("labels", info.labels);
    return filter->match(a);
}

} // namespace

Result<Info> SnapshotStore::stat(std::string_view ns, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto rec, db_->view([&](const Txn& txn) {
        return read_record(txn, schema::snapshotter_bucket(ns, name_), key);
    }));
    if (!rec) return no_snapshot(key);
    GANTRY_ASSIGN_OR_RETURN(Info b, backend_->stat(rec->bkey));
    return overlay(b, rec->info);
}

Result<Info> SnapshotStore::update(std::string_view ns, const Info& info,
                                   std::span<const std::string> paths) {
    if (info.name.empty()) return invalid_argument("snapshot name must not be empty");
    std::shared_lock guard(gc_lock_);
    Info result;
    GANTRY_TRY(db_->update([&](WriteTxn& txn) -> Status {
        const BucketPath sn = schema::snapshotter_bucket(ns, name_);
        GANTRY_ASSIGN_OR_RETURN(auto rec, read_record(txn, sn, info.name));
        if (!rec) return no_snapshot(info.name);
        Info local = rec->info;
        if (!paths.empty()) {
            for (const auto& path : paths) {
                if (path.starts_with("labels.")) {
                    const std::string k = path.substr(7);
                    auto it = info.labels.find(k);
                    local.labels[k] = it == info.labels.end() ? std::string() : it->second;
                } else if (path == "labels") {
                    local.labels = info.labels;
                } else {
                    return invalid_argument("cannot update \"" + path + "\" field on snapshot \"" +
                                            info.name + "\"");
                }
            }
        } else {
            local.labels = info.labels;
        }
        drop_empty(local.labels);
        GANTRY_TRY(validate(local.labels));
        local.updated_at = now_ts();
        const BucketPath b = sn.child(info.name);
        GANTRY_TRY(put_value(txn, b, schema::kUpdatedAt, encode_time(local.updated_at)));
        GANTRY_TRY(write_labels(txn, b, local.labels));
        // Inside the transaction, as containerd: if the backend refuses, no label changes.
        Info inner;
        inner.name = rec->bkey;
        inner.labels = inherited(local.labels);
        GANTRY_ASSIGN_OR_RETURN(Info b_info, backend_->update(inner, paths));
        result = overlay(b_info, local);
        return {};
    }));
    return result;
}

Result<snapshots::Usage> SnapshotStore::usage(std::string_view ns, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto rec, db_->view([&](const Txn& txn) {
        return read_record(txn, schema::snapshotter_bucket(ns, name_), key);
    }));
    if (!rec) return no_snapshot(key);
    return backend_->usage(rec->bkey);
}

Result<snapshots::Mounts> SnapshotStore::mounts(std::string_view ns, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto rec, db_->view([&](const Txn& txn) {
        return read_record(txn, schema::snapshotter_bucket(ns, name_), key);
    }));
    if (!rec) return no_snapshot(key);
    return backend_->mounts(rec->bkey);
}

Result<snapshots::Mounts> SnapshotStore::prepare(std::string_view ns, std::string_view lease,
                                                 std::string_view key, std::string_view parent,
                                                 const snapshots::Labels& labels) {
    return create(ns, lease, key, parent, labels, false);
}

Result<snapshots::Mounts> SnapshotStore::view(std::string_view ns, std::string_view lease,
                                              std::string_view key, std::string_view parent,
                                              const snapshots::Labels& labels) {
    return create(ns, lease, key, parent, labels, true);
}

Result<snapshots::Mounts> SnapshotStore::create(std::string_view ns, std::string_view lease,
                                                std::string_view key_in, std::string_view parent_in,
                                                const snapshots::Labels& labels_in, bool readonly) {
    if (key_in.empty()) return invalid_argument("snapshot key must not be empty");
    GANTRY_TRY(validate(labels_in));
    snapshots::Labels labels = labels_in;
    drop_empty(labels);
    std::string target;
    if (auto it = labels.find(std::string(snapshots::kRefLabel)); it != labels.end())
        target = it->second;
    std::string key(key_in);
    std::string parent(parent_in);

    std::shared_lock guard(gc_lock_);
    const BucketPath sn = schema::snapshotter_bucket(ns, name_);
    // Txn 1: the checks, and a seq for the backend key.
    std::string bparent, bkey;
    GANTRY_TRY(db_->update([&](WriteTxn& txn) -> Status {
        GANTRY_TRY(ensure_namespace(txn, ns));
        GANTRY_TRY(ensure_bucket(txn, sn));
        if (!target.empty()) {
            GANTRY_ASSIGN_OR_RETURN(bool taken, bucket_exists(txn, sn.child(target)));
            if (taken) return already_exists("target snapshot \"" + target + "\" already exists");
        }
        GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, sn.child(key)));
        if (exists) return already_exists("snapshot \"" + key + "\" already exists");
        if (!parent.empty()) {
            GANTRY_ASSIGN_OR_RETURN(auto prec, read_record(txn, sn, parent));
            if (!prec) return not_found("parent snapshot " + parent + " does not exist");
            bparent = prec->bkey;
        }
        if (!lease.empty()) {
            // Fail early for a lease that does not exist (txn 2 records the key in it).
            GANTRY_ASSIGN_OR_RETURN(
                bool lease_exists,
                bucket_exists(txn, schema::object_bucket(ns, schema::kLeases).child(lease)));
            if (!lease_exists) return not_found("lease does not exist");
        }
        GANTRY_ASSIGN_OR_RETURN(std::uint64_t seq, next_sequence(txn, sn));
        bkey = backend_key(ns, seq, key);
        return {};
    }));

    // The backend, outside any metadata transaction (copying a parent can take a while).
    const snapshots::Labels blabels = inherited(labels);
    auto m = readonly ? backend_->view(bkey, bparent, blabels)
                      : backend_->prepare(bkey, bparent, blabels);
    std::string created; // our new backend snapshot, removed again if it cannot be recorded
    std::optional<Error> rerr;
    Timestamp created_at, updated_at;
    if (!m.ok() && m.error().is(Errc::AlreadyExists)) {
        // The backend found a committed snapshot for the target (shared between namespaces):
        // link it in as `target`, and report AlreadyExists so the client skips the unpack.
        if (target.empty())
            return unknown_error("unexpected error from snapshotter: " + m.error().message());
        std::optional<Info> found;
        GANTRY_TRY(backend_->walk(nullptr, [&](const Info& i) -> Status {
            if (found || i.kind != Kind::committed || i.parent != bparent) return {};
            auto it = i.labels.find(std::string(snapshots::kRefLabel));
            if (it != i.labels.end() && it->second == target) found = i;
            return {};
        }));
        if (!found) return not_found("target snapshot \"" + target + "\" in backend");
        key = target;
        bkey = found->name;
        created_at = found->created_at;
        updated_at = found->updated_at;
        for (const auto& [k, v] : found->labels)
            labels.try_emplace(k, v);
        rerr = already_exists("target snapshot \"" + target + "\" from snapshotter");
    } else if (!m.ok()) {
        return std::move(m).error();
    } else {
        created_at = updated_at = now_ts();
        created = bkey;
    }

    // Txn 2: the record, the parent's child link and the lease entry.
    auto recorded = db_->update([&](WriteTxn& txn) -> Status {
        GANTRY_TRY(leases::add_resource(txn, ns, lease, lease_type(name_), key));
        const BucketPath b = sn.child(key);
        GANTRY_ASSIGN_OR_RETURN(bool fresh, ensure_bucket(txn, b));
        if (!fresh) {
            if (!rerr) rerr = already_exists("snapshot \"" + key + "\" already exists");
            return {};
        }
        if (!parent.empty()) {
            GANTRY_ASSIGN_OR_RETURN(auto prec, read_record(txn, sn, parent));
            if (!prec) return not_found("parent snapshot " + parent + " does not exist");
            if (prec->bkey != bparent)
                return invalid_argument("mismatched parent " + parent + " from target " + target);
            GANTRY_TRY(put_value(txn, sn.child(parent).child(schema::kChildren), key, ""));
            GANTRY_TRY(put_value(txn, b, schema::kParent, parent));
        }
        GANTRY_TRY(put_value(txn, b, schema::kCreatedAt, encode_time(created_at)));
        GANTRY_TRY(put_value(txn, b, schema::kUpdatedAt, encode_time(updated_at)));
        GANTRY_TRY(write_labels(txn, b, labels));
        return put_value(txn, b, schema::kName, bkey);
    });
    if (!recorded.ok()) rerr = std::move(recorded).error();
    if (rerr) {
        if (!created.empty()) (void)backend_->remove(created);
        return std::move(*rerr);
    }
    return std::move(m).value();
}

namespace {

// On the old record while its commit is under way: the name it is being committed to.
constexpr std::string_view kCommitting = "committing";

Status remove_from_all_leases(WriteTxn& txn, std::string_view ns, std::string_view snapshotter,
                              std::string_view key) {
    const BucketPath leases_bkt = schema::object_bucket(ns, schema::kLeases);
    GANTRY_ASSIGN_OR_RETURN(auto ids, list_buckets(txn, leases_bkt));
    for (const auto& id : ids)
        GANTRY_TRY(leases::remove_resource(txn, ns, id, lease_type(snapshotter), key));
    return {};
}

// Deletes a record and its link in its parent's children.
Status drop_record(WriteTxn& txn, const BucketPath& sn, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto parent, get_value(txn, sn.child(key), schema::kParent));
    if (parent && !parent->empty())
        GANTRY_TRY(delete_value(txn, sn.child(*parent).child(schema::kChildren), key));
    GANTRY_TRY(delete_bucket(txn, sn.child(key)));
    return {};
}

} // namespace

// A commit is journaled so that a crash anywhere leaves no record naming backend data that is
// gone: txn 1 writes the new record beside the old one and marks the old one `committing` =
// name; the backend commits; txn 2 drops the old record. recover() finishes or undoes a commit
// a crash interrupted, by asking the backend which of the two snapshots exists.
Status SnapshotStore::commit(std::string_view ns, std::string_view lease, std::string_view name,
                             std::string_view key, const snapshots::Labels& labels_in) {
    if (name.empty()) return invalid_argument("snapshot name must not be empty");
    GANTRY_TRY(validate(labels_in));
    snapshots::Labels labels = labels_in;
    drop_empty(labels);
    std::shared_lock guard(gc_lock_);
    const BucketPath sn = schema::snapshotter_bucket(ns, name_);
    std::string name_key, old_bkey;
    GANTRY_TRY(db_->update([&](WriteTxn& txn) -> Status {
        GANTRY_ASSIGN_OR_RETURN(bool taken, bucket_exists(txn, sn.child(name)));
        if (taken) return already_exists("snapshot \"" + std::string(name) + "\" already exists");
        GANTRY_TRY(leases::add_resource(txn, ns, lease, lease_type(name_), name));
        GANTRY_ASSIGN_OR_RETURN(auto old, read_record(txn, sn, key));
        if (!old) return no_snapshot(key);
        GANTRY_ASSIGN_OR_RETURN(auto busy, get_value(txn, sn.child(key), kCommitting));
        if (busy)
            return failed_precondition("snapshot " + std::string(key) + " is being committed");
        GANTRY_ASSIGN_OR_RETURN(std::uint64_t seq, next_sequence(txn, sn));
        name_key = backend_key(ns, seq, name);
        old_bkey = old->bkey;
        const BucketPath b = sn.child(name);
        GANTRY_TRY(ensure_bucket(txn, b));
        GANTRY_TRY(put_value(txn, b, schema::kName, name_key));
        if (!old->info.parent.empty()) {
            GANTRY_TRY(
                put_value(txn, sn.child(old->info.parent).child(schema::kChildren), name, ""));
            GANTRY_TRY(put_value(txn, b, schema::kParent, old->info.parent));
        }
        const Timestamp ts = now_ts();
        GANTRY_TRY(put_value(txn, b, schema::kCreatedAt, encode_time(ts)));
        GANTRY_TRY(put_value(txn, b, schema::kUpdatedAt, encode_time(ts)));
        GANTRY_TRY(write_labels(txn, b, labels));
        return put_value(txn, sn.child(key), kCommitting, name);
    }));
    if (auto st = backend_->commit(name_key, old_bkey, inherited(labels)); !st.ok()) {
        // Undo txn 1; the active snapshot stays as it was.
        (void)db_->update([&](WriteTxn& txn) -> Status {
            GANTRY_TRY(drop_record(txn, sn, name));
            GANTRY_TRY(leases::remove_resource(txn, ns, lease, lease_type(name_), name));
            GANTRY_ASSIGN_OR_RETURN(bool had, delete_value(txn, sn.child(key), kCommitting));
            (void)had;
            return {};
        });
        return st;
    }
    return db_->update([&](WriteTxn& txn) -> Status {
        GANTRY_TRY(drop_record(txn, sn, key));
        return leases::remove_resource(txn, ns, lease, lease_type(name_), key);
    });
}

Result<std::size_t> SnapshotStore::recover() {
    std::unique_lock guard(gc_lock_);
    std::size_t fixed = 0;
    return db_->update([&](WriteTxn& txn) -> Result<std::size_t> {
        GANTRY_ASSIGN_OR_RETURN(auto namespaces, list_buckets(txn, schema::v1()));
        for (const auto& ns : namespaces) {
            const BucketPath sn = schema::snapshotter_bucket(ns, name_);
            GANTRY_ASSIGN_OR_RETURN(auto keys, list_buckets(txn, sn));
            for (const auto& key : keys) {
                GANTRY_ASSIGN_OR_RETURN(auto target, get_value(txn, sn.child(key), kCommitting));
                if (!target) continue;
                const std::string name = *target;
                GANTRY_ASSIGN_OR_RETURN(auto nrec, read_record(txn, sn, name));
                const bool committed = nrec && backend_->stat(nrec->bkey).ok();
                if (committed) { // the backend committed: finish
                    GANTRY_TRY(drop_record(txn, sn, key));
                    GANTRY_TRY(remove_from_all_leases(txn, ns, name_, key));
                } else { // it did not: undo
                    if (nrec) {
                        GANTRY_TRY(drop_record(txn, sn, name));
                        GANTRY_TRY(remove_from_all_leases(txn, ns, name_, name));
                    }
                    GANTRY_ASSIGN_OR_RETURN(bool had,
                                            delete_value(txn, sn.child(key), kCommitting));
                    (void)had;
                }
                ++fixed;
            }
        }
        return fixed;
    });
}

Status SnapshotStore::remove(std::string_view ns, std::string_view key) {
    std::shared_lock guard(gc_lock_);
    GANTRY_TRY(db_->update([&](WriteTxn& txn) -> Status {
        const BucketPath sn = schema::snapshotter_bucket(ns, name_);
        GANTRY_ASSIGN_OR_RETURN(auto rec, read_record(txn, sn, key));
        if (!rec) return no_snapshot(key);
        GANTRY_ASSIGN_OR_RETURN(bool childless,
                                bucket_empty(txn, sn.child(key).child(schema::kChildren)));
        if (!childless) return failed_precondition("cannot remove snapshot with child");
        if (!rec->info.parent.empty())
            GANTRY_TRY(delete_value(txn, sn.child(rec->info.parent).child(schema::kChildren), key));
        GANTRY_TRY(delete_bucket(txn, sn.child(key)));
        // containerd removes it from the request's lease; without the lease at hand we remove
        // it from every lease of the namespace that holds it (a removed key held by a lease
        // would otherwise keep a later snapshot of the same key alive by accident).
        return remove_from_all_leases(txn, ns, name_, key);
    }));
    set_dirty();
    if (auto c = collector_.lock()) c->mark_dirty();
    return {};
}

Status SnapshotStore::walk(std::string_view ns, const filters::Filter* filter,
                           const snapshots::WalkFn& fn) {
    // Records in batches of 100 per read transaction, so a long walk never pins an old
    // snapshot of the database (and fn may call back into the store).
    constexpr std::size_t kBatch = 100;
    const BucketPath sn = schema::snapshotter_bucket(ns, name_);
    std::optional<std::string> after;
    for (;;) {
        std::vector<Record> batch;
        bool more = false;
        GANTRY_TRY(db_->view([&](const Txn& txn) -> Status {
            GANTRY_ASSIGN_OR_RETURN(auto keys, list_buckets(txn, sn));
            auto it = after ? std::upper_bound(keys.begin(), keys.end(), *after) : keys.begin();
            for (; it != keys.end(); ++it) {
                if (batch.size() >= kBatch) {
                    more = true;
                    break;
                }
                GANTRY_ASSIGN_OR_RETURN(auto rec, read_record(txn, sn, *it));
                if (rec) batch.push_back(std::move(*rec));
            }
            return {};
        }));
        for (const auto& rec : batch) {
            auto b = backend_->stat(rec.bkey);
            if (!b.ok()) {
                if (b.error().is(Errc::NotFound)) continue; // removed meanwhile
                return std::move(b).error();
            }
            Info info = overlay(*b, rec.info);
            if (matches(filter, info)) GANTRY_TRY(fn(info));
        }
        if (!more || batch.empty()) return {};
        after = batch.back().info.name;
    }
}

Result<std::vector<std::string>> referenced_backend_keys(const Txn& txn,
                                                         std::string_view snapshotter) {
    std::vector<std::string> out;
    GANTRY_ASSIGN_OR_RETURN(auto namespaces, list_buckets(txn, schema::v1()));
    for (const auto& ns : namespaces) {
        const BucketPath sn = schema::snapshotter_bucket(ns, snapshotter);
        GANTRY_ASSIGN_OR_RETURN(auto keys, list_buckets(txn, sn));
        for (const auto& key : keys) {
            GANTRY_ASSIGN_OR_RETURN(auto bkey, get_value(txn, sn.child(key), schema::kName));
            if (bkey && !bkey->empty()) out.push_back(*bkey);
        }
    }
    return out;
}

Result<std::vector<std::string>> orphaned_backend_keys(const Database& db,
                                                       std::string_view snapshotter,
                                                       snapshots::Snapshotter& backend) {
    GANTRY_ASSIGN_OR_RETURN(auto used, db.view([&](const Txn& txn) {
        return referenced_backend_keys(txn, snapshotter);
    }));
    const std::set<std::string, std::less<>> in_use(used.begin(), used.end());
    // name -> parent of every backend snapshot no record names, and child counts of all.
    std::map<std::string, std::string> orphans;
    std::map<std::string, int> children;
    GANTRY_TRY(backend.walk(nullptr, [&](const Info& i) -> Status {
        if (!i.parent.empty()) ++children[i.parent];
        if (!in_use.count(i.name)) orphans.emplace(i.name, i.parent);
        return {};
    }));
    // Leaves first: an orphan is removed once nothing left has it as parent. An orphan with a
    // child in use stays (that child needs it).
    std::vector<std::string> out;
    std::vector<std::string> ready;
    for (const auto& [name, parent] : orphans)
        if (children[name] == 0) ready.push_back(name);
    while (!ready.empty()) {
        std::string n = std::move(ready.back());
        ready.pop_back();
        out.push_back(n);
        const std::string& p = orphans[n];
        if (!p.empty() && --children[p] == 0 && orphans.count(p)) ready.push_back(p);
    }
    return out;
}

Result<std::vector<std::string>> prune_backend(const Database& db, std::string_view snapshotter,
                                               snapshots::Snapshotter& backend, bool dry_run,
                                               std::size_t* removed) {
    GANTRY_ASSIGN_OR_RETURN(auto orphans, orphaned_backend_keys(db, snapshotter, backend));
    if (dry_run) return orphans;
    std::vector<std::string> done;
    for (const auto& key : orphans) {
        auto st = backend.remove(key);
        if (st.ok()) {
            done.push_back(key);
        } else if (!st.error().is(Errc::FailedPrecondition) && !st.error().is(Errc::NotFound)) {
            return std::move(st).error().wrap("remove snapshot " + key + " from " +
                                              std::string(snapshotter));
        }
    }
    if (removed != nullptr) *removed = done.size();
    auto st = backend.cleanup();
    if (!st.ok() && !st.error().is(Errc::NotImplemented))
        return std::move(st).error().wrap("cleanup of snapshotter " + std::string(snapshotter));
    return done;
}

Result<std::vector<std::string>> SnapshotStore::prune(bool dry_run) {
    if (dry_run) {
        std::shared_lock guard(gc_lock_);
        return prune_backend(*db_, name_, *backend_, true);
    }
    std::unique_lock guard(gc_lock_);
    return prune_backend(*db_, name_, *backend_, false);
}

} // namespace gantry::metadata
