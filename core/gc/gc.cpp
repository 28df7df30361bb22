#include "core/gc/gc.hpp"

#include "core/metadata/buckets.hpp"
#include "core/metadata/lease_resources.hpp"
#include "core/metadata/leases.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/snapshots.hpp"
#include "core/metadata/value_encoding.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace gantry::gc {

namespace md = gantry::metadata;
namespace schema = gantry::metadata::schema;
using Clock = std::chrono::system_clock;

// ---- RFC 3339 ----

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

} // namespace

std::optional<Clock::time_point> parse_rfc3339(std::string_view s) {
    int year, month, day, hour, minute, second;
    if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) ||
        s[7] != '-' || !digits(s, 8, 2, day) || s[10] != 'T' || !digits(s, 11, 2, hour) ||
        s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year(year),
                                          std::chrono::month(static_cast<unsigned>(month)),
                                          std::chrono::day(static_cast<unsigned>(day))};
    if (!ymd.ok()) return std::nullopt;
    std::size_t pos = 19;
    std::int64_t nanos = 0;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::size_t n = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            if (n < 9) nanos = nanos * 10 + (s[pos] - '0');
            ++n;
            ++pos;
        }
        if (n == 0) return std::nullopt;
        for (std::size_t i = n; i < 9; ++i)
            nanos *= 10;
    }
    if (pos >= s.size()) return std::nullopt;
    int offset_minutes = 0;
    if (s[pos] == 'Z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int oh, om;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    const auto days = std::chrono::sys_days(ymd);
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
        days.time_since_epoch() + std::chrono::hours(hour) + std::chrono::minutes(minute) +
        std::chrono::seconds(second) - std::chrono::minutes(offset_minutes) +
        std::chrono::nanoseconds(nanos)));
}

std::string format_rfc3339(Clock::time_point t) {
    const std::time_t secs = Clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// ---- mark ----

namespace {

enum class Kind { content, ingest, lease, snapshot };

struct Node {
    Kind kind;
    std::string ns;
    std::string id;          // digest, ingest ref, lease id or snapshot key
    std::string snapshotter; // snapshots only
    auto operator<=>(const Node&) const = default;
};

class Marker {
public:
    Marker(const md::Txn& txn, Clock::time_point now) : txn_(txn), now_(now) {}

    // Marks every root of every namespace and everything reachable from them.
    Status run(const std::vector<std::string>& namespaces) {
        for (const auto& ns : namespaces)
            GANTRY_TRY(roots(ns));
        while (!queue_.empty()) {
            auto [node, follow] = std::move(queue_.back());
            queue_.pop_back();
            GANTRY_TRY(references(node, follow));
        }
        return ok_status();
    }

    bool marked(const Node& n) const { return marked_.count(n) != 0; }

private:
    // `follow` = the node's gc.ref labels are followed (false below a flat lease).
    void push(Node n, bool follow = true) {
        auto [it, inserted] = marked_.emplace(n, follow);
        if (!inserted) {
            if (it->second || !follow) return;
            it->second = true; // reached again, now through a path that follows references
        }
        queue_.emplace_back(std::move(n), follow);
    }

    void push_label_refs(const std::string& ns, const md::Labels& labels) {
        for (auto it = labels.lower_bound(std::string(kContentRefPrefix));
             it != labels.end() && it->first.starts_with(kContentRefPrefix); ++it) {
            const std::string_view rest =
                std::string_view(it->first).substr(kContentRefPrefix.size());
            if (!rest.empty() && rest.front() != '.' && rest.front() != '/') continue;
            push({Kind::content, ns, it->second, {}});
        }
        for (auto it = labels.lower_bound(std::string(kSnapshotRefPrefix));
             it != labels.end() && it->first.starts_with(kSnapshotRefPrefix); ++it) {
            std::string_view sn = std::string_view(it->first).substr(kSnapshotRefPrefix.size());
            sn = sn.substr(0, sn.find('/'));
            push({Kind::snapshot, ns, it->second, std::string(sn)});
        }
    }

    bool expired(const md::Labels& labels) const {
        auto it = labels.find(std::string(md::leases::kExpireLabel));
        if (it == labels.end()) return false;
        auto when = parse_rfc3339(it->second);
        return when && *when < now_; // an unparseable value never expires
    }

    Status roots(const std::string& ns) {
        // Leases that have not expired, and everything they hold.
        const md::BucketPath leases = schema::object_bucket(ns, schema::kLeases);
        GANTRY_ASSIGN_OR_RETURN(auto lease_ids, md::list_buckets(txn_, leases));
        for (const auto& id : lease_ids) {
            const md::BucketPath lease = leases.child(id);
            GANTRY_ASSIGN_OR_RETURN(md::Labels labels, md::read_labels(txn_, lease));
            if (expired(labels)) continue;
            const bool flat = labels.count(std::string(md::leases::kFlatLabel)) != 0;
            push({Kind::lease, ns, id, {}});
            GANTRY_ASSIGN_OR_RETURN(auto content,
                                    md::list_values(txn_, lease.child(md::leases::kContent)));
            for (auto& [digest, v] : content)
                push({Kind::content, ns, digest, {}}, !flat);
            GANTRY_ASSIGN_OR_RETURN(auto ingests,
                                    md::list_values(txn_, lease.child(md::leases::kIngests)));
            for (auto& [ref, v] : ingests)
                push({Kind::ingest, ns, ref, {}});
            const md::BucketPath snaps = lease.child(schema::kSnapshots);
            GANTRY_ASSIGN_OR_RETURN(auto snapshotters, md::list_buckets(txn_, snaps));
            for (const auto& sn : snapshotters) {
                GANTRY_ASSIGN_OR_RETURN(auto keys, md::list_values(txn_, snaps.child(sn)));
                for (auto& [key, v] : keys)
                    push({Kind::snapshot, ns, key, sn}, !flat);
            }
        }
        // Images: the target and the image's gc.ref labels.
        const md::BucketPath images = schema::object_bucket(ns, schema::kImages);
        GANTRY_ASSIGN_OR_RETURN(auto names, md::list_buckets(txn_, images));
        for (const auto& name : names) {
            const md::BucketPath image = images.child(name);
            GANTRY_ASSIGN_OR_RETURN(
                auto digest, md::get_value(txn_, image.child(schema::kTarget), schema::kDigest));
            if (digest && !digest->empty()) push({Kind::content, ns, std::string(*digest), {}});
            GANTRY_ASSIGN_OR_RETURN(md::Labels labels, md::read_labels(txn_, image));
            push_label_refs(ns, labels);
        }
        // Containers: the snapshot and the container's gc.ref labels.
        const md::BucketPath containers = schema::object_bucket(ns, schema::kContainers);
        GANTRY_ASSIGN_OR_RETURN(auto ids, md::list_buckets(txn_, containers));
        for (const auto& id : ids) {
            const md::BucketPath c = containers.child(id);
            GANTRY_ASSIGN_OR_RETURN(auto sn, md::get_value(txn_, c, schema::kSnapshotter));
            GANTRY_ASSIGN_OR_RETURN(auto key, md::get_value(txn_, c, schema::kSnapshotKey));
            if (sn && key && !sn->empty() && !key->empty())
                push({Kind::snapshot, ns, std::string(*key), std::string(*sn)});
            GANTRY_ASSIGN_OR_RETURN(md::Labels labels, md::read_labels(txn_, c));
            push_label_refs(ns, labels);
        }
        // Blobs and snapshots labelled gc.root.
        const md::BucketPath blobs = schema::blobs_bucket(ns);
        GANTRY_ASSIGN_OR_RETURN(auto digests, md::list_buckets(txn_, blobs));
        for (const auto& d : digests) {
            GANTRY_ASSIGN_OR_RETURN(md::Labels labels, md::read_labels(txn_, blobs.child(d)));
            if (labels.count(std::string(kRootLabel))) push({Kind::content, ns, d, {}});
        }
        const md::BucketPath snapshots = schema::object_bucket(ns, schema::kSnapshots);
        GANTRY_ASSIGN_OR_RETURN(auto snapshotters, md::list_buckets(txn_, snapshots));
        for (const auto& sn : snapshotters) {
            GANTRY_ASSIGN_OR_RETURN(auto keys, md::list_buckets(txn_, snapshots.child(sn)));
            for (const auto& key : keys) {
                GANTRY_ASSIGN_OR_RETURN(md::Labels labels,
                                        md::read_labels(txn_, snapshots.child(sn).child(key)));
                if (labels.count(std::string(kRootLabel))) push({Kind::snapshot, ns, key, sn});
            }
        }
        // Ingests whose expireat is still in the future.
        const md::BucketPath ingests = schema::ingests_bucket(ns);
        GANTRY_ASSIGN_OR_RETURN(auto refs, md::list_buckets(txn_, ingests));
        for (const auto& ref : refs) {
            GANTRY_ASSIGN_OR_RETURN(auto ea,
                                    md::get_value(txn_, ingests.child(ref), schema::kExpireAt));
            if (!ea) continue;
            auto when = md::decode_time(*ea);
            if (when.ok() && md::to_time_point(*when) > now_) push({Kind::ingest, ns, ref, {}});
        }
        return ok_status();
    }

    Status references(const Node& n, bool follow) {
        switch (n.kind) {
        case Kind::content: {
            if (!follow) return ok_status();
            GANTRY_ASSIGN_OR_RETURN(md::Labels labels,
                                    md::read_labels(txn_, schema::blobs_bucket(n.ns).child(n.id)));
            push_label_refs(n.ns, labels);
            return ok_status();
        }
        case Kind::snapshot: {
            const md::BucketPath snap = schema::snapshotter_bucket(n.ns, n.snapshotter).child(n.id);
            GANTRY_ASSIGN_OR_RETURN(auto parent, md::get_value(txn_, snap, schema::kParent));
            if (parent && !parent->empty())
                push({Kind::snapshot, n.ns, std::string(*parent), n.snapshotter}, follow);
            if (!follow) return ok_status();
            GANTRY_ASSIGN_OR_RETURN(md::Labels labels, md::read_labels(txn_, snap));
            push_label_refs(n.ns, labels);
            return ok_status();
        }
        case Kind::ingest: {
            GANTRY_ASSIGN_OR_RETURN(
                auto expected,
                md::get_value(txn_, schema::ingests_bucket(n.ns).child(n.id), schema::kExpected));
            if (expected && !expected->empty())
                push({Kind::content, n.ns, std::string(*expected), {}});
            return ok_status();
        }
        case Kind::lease:
            return ok_status();
        }
        return ok_status();
    }

    const md::Txn& txn_;
    Clock::time_point now_;
    std::map<Node, bool> marked_;
    std::vector<std::pair<Node, bool>> queue_;
};

// Deletes the unmarked snapshot records of one snapshotter bucket. A surviving parent loses its
// link to a deleted child (otherwise Remove of the parent would fail with "has child" forever).
Status sweep_snapshots(md::WriteTxn& txn, const Marker& marker, const std::string& ns,
                       const std::string& sn, Stats& stats, std::set<std::string>& dirty) {
    const md::BucketPath bucket = schema::snapshotter_bucket(ns, sn);
    GANTRY_ASSIGN_OR_RETURN(auto keys, md::list_buckets(txn, bucket));
    std::vector<std::pair<std::string, std::string>> doomed; // key, parent
    for (const auto& key : keys) {
        if (marker.marked({Kind::snapshot, ns, key, sn})) continue;
        GANTRY_ASSIGN_OR_RETURN(auto parent,
                                md::get_value(txn, bucket.child(key), schema::kParent));
        doomed.emplace_back(key, parent ? *parent : std::string());
    }
    for (const auto& [key, parent] : doomed) {
        GANTRY_ASSIGN_OR_RETURN(bool removed, md::delete_bucket(txn, bucket.child(key)));
        if (!parent.empty())
            GANTRY_TRY(md::delete_value(txn, bucket.child(parent).child(schema::kChildren), key));
        if (removed) {
            ++stats.snapshots;
            dirty.insert(sn);
        }
    }
    return ok_status();
}

// Deletes every unmarked lease, ingest record, blob record and snapshot record; `dirty` gets
// the snapshotters that lost records.
Status sweep(md::WriteTxn& txn, const Marker& marker, const std::vector<std::string>& namespaces,
             Stats& stats, std::set<std::string>& dirty) {
    for (const auto& ns : namespaces) {
        const md::BucketPath snapshots = schema::object_bucket(ns, schema::kSnapshots);
        GANTRY_ASSIGN_OR_RETURN(auto snapshotters, md::list_buckets(txn, snapshots));
        for (const auto& sn : snapshotters)
            GANTRY_TRY(sweep_snapshots(txn, marker, ns, sn, stats, dirty));
        const md::BucketPath leases = schema::object_bucket(ns, schema::kLeases);
        GANTRY_ASSIGN_OR_RETURN(auto lease_ids, md::list_buckets(txn, leases));
        for (const auto& id : lease_ids) {
            if (marker.marked({Kind::lease, ns, id, {}})) continue;
            GANTRY_ASSIGN_OR_RETURN(bool removed, md::delete_bucket(txn, leases.child(id)));
            stats.leases += removed ? 1 : 0;
        }
        const md::BucketPath ingests = schema::ingests_bucket(ns);
        GANTRY_ASSIGN_OR_RETURN(auto refs, md::list_buckets(txn, ingests));
        for (const auto& ref : refs) {
            if (marker.marked({Kind::ingest, ns, ref, {}})) continue;
            GANTRY_ASSIGN_OR_RETURN(bool removed, md::delete_bucket(txn, ingests.child(ref)));
            stats.ingests += removed ? 1 : 0;
        }
        const md::BucketPath blobs = schema::blobs_bucket(ns);
        GANTRY_ASSIGN_OR_RETURN(auto digests, md::list_buckets(txn, blobs));
        for (const auto& d : digests) {
            if (marker.marked({Kind::content, ns, d, {}})) continue;
            GANTRY_ASSIGN_OR_RETURN(bool removed, md::delete_bucket(txn, blobs.child(d)));
            stats.blobs += removed ? 1 : 0;
        }
    }
    return ok_status();
}

// Removes blobs and backend ingests that no namespace's record names. The caller holds a write
// transaction (the writer lock) for the whole call; see gc.hpp.
Status sweep_disk(const md::Txn& txn, ContentBackend& backend, Stats& stats) {
    GANTRY_ASSIGN_OR_RETURN(auto namespaces, md::list_buckets(txn, schema::v1()));
    std::set<std::string, std::less<>> blobs_in_use;
    std::set<std::string, std::less<>> ingests_in_use;
    for (const auto& ns : namespaces) {
        GANTRY_ASSIGN_OR_RETURN(auto digests, md::list_buckets(txn, schema::blobs_bucket(ns)));
        blobs_in_use.insert(digests.begin(), digests.end());
        const md::BucketPath ingests = schema::ingests_bucket(ns);
        GANTRY_ASSIGN_OR_RETURN(auto refs, md::list_buckets(txn, ingests));
        for (const auto& ref : refs) {
            GANTRY_ASSIGN_OR_RETURN(auto backend_ref,
                                    md::get_value(txn, ingests.child(ref), schema::kRef));
            if (backend_ref) ingests_in_use.emplace(*backend_ref);
        }
    }
    GANTRY_ASSIGN_OR_RETURN(auto on_disk, backend.list_blobs());
    for (const auto& digest : on_disk) {
        if (blobs_in_use.count(digest)) continue;
        auto st = backend.delete_blob(digest);
        if (st.ok())
            ++stats.disk_blobs;
        else if (!st.error().is(Errc::NotFound))
            return std::move(st).error().wrap("remove blob " + digest);
    }
    GANTRY_ASSIGN_OR_RETURN(auto ingests_on_disk, backend.list_ingests());
    for (const auto& ref : ingests_on_disk) {
        if (ingests_in_use.count(ref)) continue;
        auto st = backend.abort_ingest(ref);
        if (st.ok())
            ++stats.disk_ingests;
        else if (!st.error().is(Errc::NotFound))
            return std::move(st).error().wrap("remove ingest " + ref);
    }
    return ok_status();
}

// Removes one snapshotter's backend snapshots that no record names, then runs its cleanup.
Status sweep_backend(md::Database& db, const SnapshotBackend& sb, Stats& stats) {
    std::unique_lock<std::shared_mutex> guard;
    if (sb.lock != nullptr) guard = std::unique_lock(*sb.lock);
    std::size_t removed = 0;
    auto done = md::prune_backend(db, sb.name, *sb.snapshotter, false, &removed);
    stats.backend_snapshots += removed;
    if (!done.ok()) return std::move(done).error();
    ++stats.snapshotters_cleaned;
    return ok_status();
}

} // namespace

Result<Stats> collect(md::Database& db, ContentBackend* backend, Clock::time_point now) {
    return collect(db, backend, std::span<const SnapshotBackend>(), now);
}

Result<Stats> collect(md::Database& db, ContentBackend* backend,
                      std::span<const SnapshotBackend> snapshotters, Clock::time_point now) {
    const auto start = std::chrono::steady_clock::now();
    Stats stats;
    std::set<std::string> dirty;
    GANTRY_TRY(db.update([&](md::WriteTxn& txn) -> Status {
        GANTRY_ASSIGN_OR_RETURN(auto namespaces, md::list_buckets(txn, schema::v1()));
        Marker marker(txn, now);
        GANTRY_TRY(marker.run(namespaces));
        return sweep(txn, marker, namespaces, stats, dirty);
    }));
    stats.metadata_duration = std::chrono::steady_clock::now() - start;
    if (backend != nullptr) {
        GANTRY_ASSIGN_OR_RETURN(md::WriteTxn lock, db.begin_write());
        GANTRY_TRY(sweep_disk(lock, *backend, stats));
        // `lock` wrote nothing; it is aborted when it goes out of scope.
    }
    for (const auto& sb : snapshotters) {
        if (!sb.snapshotter || (!sb.dirty && !dirty.count(sb.name))) continue;
        GANTRY_TRY(sweep_backend(db, sb, stats));
    }
    stats.total_duration = std::chrono::steady_clock::now() - start;
    return stats;
}

} // namespace gantry::gc
