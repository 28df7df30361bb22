// Snapshotters (protocol-facts.md §8.1): trees of filesystems, each ACTIVE (writable, from
// Prepare), VIEW (read-only, from View) or COMMITTED (immutable, a parent for others).
//
// Two layers, as in containerd:
//  - Snapshotter: one backend (overlayfs, native, btrfs: snapshotters/*.so), shared by every
//    namespace. Its keys are the metadata's backend names "<ns>/<seq>/<key>"; it keeps its own
//    crash-safe state under its root (core/snapshots/storage.hpp) and only the labels prefixed
//    `containerd.io/snapshot/` reach it.
//  - Store: what services use, per snapshotter name. Every call names a namespace; keys,
//    parents, children, labels and lease membership live in the daemon's metadata database
//    (core/metadata/snapshots.hpp), the data in the backend.
//
// Errors (both layers): NotFound for a missing key or parent, AlreadyExists for a taken key or
// name, InvalidArgument for a parent that is not committed, FailedPrecondition for Mounts of a
// committed snapshot, Commit of a non-active one and Remove of a snapshot with children.
#pragma once

#include "core/errors.hpp"
#include "core/metadata/value_encoding.hpp"
#include "core/mount/mount.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::filters {
class Filter;
}

namespace gantry::snapshots {

using Labels = std::map<std::string, std::string>;
using Timestamp = metadata::Timestamp;
using Mounts = std::vector<mount::Mount>;

// Numeric values are the wire enum (containerd.services.snapshots.v1.Kind).
enum class Kind : int { unknown = 0, view = 1, active = 2, committed = 3 };

struct Info {
    std::string name;   // the key (Store) or backend key (Snapshotter)
    std::string parent; // empty for a root
    Kind kind = Kind::unknown;
    Timestamp created_at;
    Timestamp updated_at;
    Labels labels;
};

struct Usage {
    std::int64_t size = 0; // bytes
    std::int64_t inodes = 0;
};

// Labels that reach the backend; everything else stays in metadata.
inline constexpr std::string_view kInheritedLabelPrefix = "containerd.io/snapshot/";
// On Prepare: the committed name this snapshot will get (cross-namespace sharing, §8.1).
inline constexpr std::string_view kRefLabel = "containerd.io/snapshot.ref";

using WalkFn = std::function<Status(const Info&)>;

// A backend. Thread-safe: the daemon calls it from many RPC threads at once.
class Snapshotter {
public:
    virtual ~Snapshotter() = default;
    virtual Result<Info> stat(std::string_view key) = 0;
    // Labels only. Paths as in Store::update.
    virtual Result<Info> update(const Info& info, std::span<const std::string> paths) = 0;
    virtual Result<Usage> usage(std::string_view key) = 0;
    virtual Result<Mounts> mounts(std::string_view key) = 0;
    virtual Result<Mounts> prepare(std::string_view key, std::string_view parent,
                                   const Labels& labels) = 0;
    virtual Result<Mounts> view(std::string_view key, std::string_view parent,
                                const Labels& labels) = 0;
    virtual Status commit(std::string_view name, std::string_view key, const Labels& labels) = 0;
    virtual Status remove(std::string_view key) = 0;
    // Every snapshot (fields for the filter: name, parent, kind, labels.<k>); `filter` may be
    // null for all.
    virtual Status walk(const filters::Filter* filter, const WalkFn& fn) = 0;
    // Removes data that no snapshot record owns (directories left by Remove or by a crash,
    // leftover mounts). NotImplemented when the backend has nothing to clean.
    virtual Status cleanup() = 0;
};

// The namespaced store over one backend. `lease` is the request's containerd-lease (may be
// empty); Prepare, View and Commit record the key in it.
class Store {
public:
    virtual ~Store() = default;
    virtual Result<Info> stat(std::string_view ns, std::string_view key) = 0;
    // Mask paths: "labels" replaces all labels, "labels.<k>" sets or (empty value) deletes one;
    // no paths replaces the labels. Returns the stored info.
    virtual Result<Info> update(std::string_view ns, const Info& info,
                                std::span<const std::string> paths) = 0;
    virtual Result<Usage> usage(std::string_view ns, std::string_view key) = 0;
    virtual Result<Mounts> mounts(std::string_view ns, std::string_view key) = 0;
    virtual Result<Mounts> prepare(std::string_view ns, std::string_view lease,
                                   std::string_view key, std::string_view parent,
                                   const Labels& labels) = 0;
    virtual Result<Mounts> view(std::string_view ns, std::string_view lease, std::string_view key,
                                std::string_view parent, const Labels& labels) = 0;
    virtual Status commit(std::string_view ns, std::string_view lease, std::string_view name,
                          std::string_view key, const Labels& labels) = 0;
    virtual Status remove(std::string_view ns, std::string_view key) = 0;
    // Filter fields: name, parent, kind, labels.<k>. `filter` may be null for all.
    virtual Status walk(std::string_view ns, const filters::Filter* filter, const WalkFn& fn) = 0;
};

// The instance of io.containerd.service.v1.snapshots-service: one Store per loaded snapshotter,
// by name ("overlayfs", "native", "btrfs").
struct Service {
    std::map<std::string, std::shared_ptr<Store>, std::less<>> stores;
    std::map<std::string, std::shared_ptr<Snapshotter>, std::less<>> backends;

    std::shared_ptr<Store> find(std::string_view name) const {
        auto it = stores.find(name);
        return it == stores.end() ? nullptr : it->second;
    }
};

} // namespace gantry::snapshots
