#include "core/metadata/lease_resources.hpp"

#include "core/metadata/buckets.hpp"
#include "core/metadata/schema.hpp"

namespace gantry::metadata::leases {

namespace {

// leases/<id>/content/<digest>, leases/<id>/ingests/<ref>, leases/<id>/snapshots/<sn>/<key>
Result<BucketPath> resource_bucket(std::string_view ns, std::string_view lease_id,
                                   std::string_view type) {
    BucketPath lease = schema::object_bucket(ns, schema::kLeases).child(lease_id);
    if (type == kContent || type == kIngests) return lease.child(type);
    constexpr std::string_view kSnapPrefix = "snapshots/";
    if (type.substr(0, kSnapPrefix.size()) == kSnapPrefix && type.size() > kSnapPrefix.size())
        return lease.child(schema::kSnapshots).child(type.substr(kSnapPrefix.size()));
    return not_implemented("unsupported lease resource type \"" + std::string(type) + "\"");
}

} // namespace

Status add_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                    std::string_view type, std::string_view id) {
    if (lease_id.empty()) return {};
    BucketPath lease = schema::object_bucket(ns, schema::kLeases).child(lease_id);
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, lease));
    if (!exists) return not_found("lease does not exist");
    GANTRY_ASSIGN_OR_RETURN(BucketPath bucket, resource_bucket(ns, lease_id, type));
    GANTRY_TRY(ensure_bucket(txn, bucket));
    return put_value(txn, bucket, id, "");
}

Status remove_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                       std::string_view type, std::string_view id) {
    if (lease_id.empty()) return {};
    GANTRY_ASSIGN_OR_RETURN(BucketPath bucket, resource_bucket(ns, lease_id, type));
    GANTRY_ASSIGN_OR_RETURN(bool removed, delete_value(txn, bucket, id));
    (void)removed;
    return {};
}

} // namespace gantry::metadata::leases
