// Leases (protocol-facts.md §1.2, §2.8, §5.3): v1/<ns>/leases/<id> with createdat, labels and the
// resources the lease holds. A lease keeps what it holds alive until it is deleted or its
// containerd.io/gc.expire label has passed (the garbage collector decides that, core/gc).
//
// Behaviour follows containerd 1.6's metadata/leases.go:
// - Ids are never validated; an empty id on Create gets a random one (generate_id()).
// - Create of an existing id: AlreadyExists `lease "<id>"`. Delete, AddResource, DeleteResource
//   and ListResources of a missing lease: NotFound `lease "<id>"`.
// - Resource types: "content" (the id must parse as a digest), "ingests", "snapshots/<sn>";
//   "content/x" or "snapshots" alone are InvalidArgument, any other type NotImplemented.
// - DeleteResource of a resource the lease does not hold is not an error.
#pragma once

#include "core/errors.hpp"
#include "core/filters/filter.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/lease_resources.hpp"
#include "core/metadata/value_encoding.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::metadata::leases {

// The label that makes a lease expire (RFC 3339 time).
inline constexpr std::string_view kExpireLabel = "containerd.io/gc.expire";
// The label that makes a lease "flat": its resources are roots but their gc.ref labels are not
// followed.
inline constexpr std::string_view kFlatLabel = "containerd.io/gc.flat";

struct Lease {
    std::string id;
    Timestamp created_at;
    Labels labels;
};

struct Resource {
    std::string id;
    std::string type;
    bool operator==(const Resource&) const = default;
};

// containerd's WithRandomID: "<nanosecond of the current second>-<base64url of 3 random bytes>".
std::string generate_id();

// Creates the lease (and the namespace). An empty id is replaced by generate_id(). Labels are
// validated (§6.4).
Result<Lease> create(WriteTxn& txn, std::string_view ns, std::string_view id, const Labels& labels);
Result<Lease> get(const Txn& txn, std::string_view ns, std::string_view id);
// Deletes the lease and its resource records (not the resources).
Status remove(WriteTxn& txn, std::string_view ns, std::string_view id);
// The namespace's leases matching `filter` (fields: id, labels.<key>), sorted by id.
Result<std::vector<Lease>> list(const Txn& txn, std::string_view ns, const filters::Filter& filter);

// The bucket path and key a resource is stored under, after containerd's validation:
// InvalidArgument for a malformed type or content digest, NotImplemented for an unknown type.
Status validate_resource(const Resource& resource);
Status add_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                    const Resource& resource);
Status delete_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                       const Resource& resource);
// content first, then ingests, then snapshots by snapshotter, each sorted by id.
Result<std::vector<Resource>> list_resources(const Txn& txn, std::string_view ns,
                                             std::string_view lease_id);

// What the leases service plugin (io.containerd.service.v1.leases-service) provides. Each call
// is one transaction; removals tell the garbage collector that something may have become garbage.
class Manager {
public:
    virtual ~Manager() = default;
    virtual Result<Lease> create(std::string_view ns, std::string_view id,
                                 const Labels& labels) = 0;
    // With `sync`, returns only after a full garbage collection that started after the delete.
    virtual Status remove(std::string_view ns, std::string_view id, bool sync) = 0;
    virtual Result<std::vector<Lease>> list(std::string_view ns, const filters::Filter& filter) = 0;
    virtual Status add_resource(std::string_view ns, std::string_view id, const Resource& r) = 0;
    virtual Status delete_resource(std::string_view ns, std::string_view id, const Resource& r) = 0;
    virtual Result<std::vector<Resource>> list_resources(std::string_view ns,
                                                         std::string_view id) = 0;
};

} // namespace gantry::metadata::leases
