#include "core/metadata/leases.hpp"

#include "core/filters/adaptor.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"

#include <algorithm>
#include <chrono>
#include <random>

namespace gantry::metadata::leases {

namespace {

std::string lease_name(std::string_view id) {
    return "lease \"" + std::string(id) + "\"";
}

BucketPath lease_bucket(std::string_view ns, std::string_view id) {
    return schema::object_bucket(ns, schema::kLeases).child(id);
}

Result<bool> lease_exists(const Txn& txn, std::string_view ns, std::string_view id) {
    return bucket_exists(txn, lease_bucket(ns, id));
}

// The bucket below the lease that holds resources of this (validated) type.
BucketPath resource_bucket(std::string_view ns, std::string_view id, std::string_view type) {
    BucketPath lease = lease_bucket(ns, id);
    constexpr std::string_view kSnapPrefix = "snapshots/";
    if (type.substr(0, kSnapPrefix.size()) == kSnapPrefix)
        return lease.child(schema::kSnapshots).child(type.substr(kSnapPrefix.size()));
    return lease.child(type);
}

Result<Lease> read_lease(const Txn& txn, std::string_view ns, std::string_view id) {
    const BucketPath bucket = lease_bucket(ns, id);
    Lease lease;
    lease.id = std::string(id);
    GANTRY_ASSIGN_OR_RETURN(auto created, get_value(txn, bucket, schema::kCreatedAt));
    if (created) {
        GANTRY_ASSIGN_OR_RETURN(lease.created_at, decode_time(*created));
    }
    GANTRY_ASSIGN_OR_RETURN(lease.labels, read_labels(txn, bucket));
    return lease;
}

} // namespace

std::string generate_id() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1'000'000'000;
    thread_local std::mt19937 rng(std::random_device{}());
    const std::uint32_t bytes = rng() & 0xFFFFFFu; // 3 random bytes, b0 b1 b2 = bits 23..0
    std::string id = std::to_string(nanos) + "-";
    for (int shift = 18; shift >= 0; shift -= 6)
        id.push_back(kAlphabet[(bytes >> shift) & 0x3F]);
    return id;
}

Result<Lease> create(WriteTxn& txn, std::string_view ns, std::string_view id,
                     const Labels& labels) {
    GANTRY_TRY(validate_labels(labels));
    GANTRY_TRY(ensure_namespace(txn, ns));
    Lease lease;
    lease.id = id.empty() ? generate_id() : std::string(id);
    const BucketPath bucket = lease_bucket(ns, lease.id);
    GANTRY_ASSIGN_OR_RETURN(bool created, ensure_bucket(txn, bucket));
    if (!created) return already_exists(lease_name(lease.id));
    lease.created_at = to_timestamp(std::chrono::system_clock::now());
    GANTRY_TRY(put_value(txn, bucket, schema::kCreatedAt, encode_time(lease.created_at)));
    if (!labels.empty()) GANTRY_TRY(write_labels(txn, bucket, labels));
    GANTRY_ASSIGN_OR_RETURN(lease.labels, read_labels(txn, bucket));
    return lease;
}

Result<Lease> get(const Txn& txn, std::string_view ns, std::string_view id) {
    GANTRY_ASSIGN_OR_RETURN(bool exists, lease_exists(txn, ns, id));
    if (!exists) return not_found(lease_name(id));
    return read_lease(txn, ns, id);
}

Status remove(WriteTxn& txn, std::string_view ns, std::string_view id) {
    GANTRY_ASSIGN_OR_RETURN(bool removed, delete_bucket(txn, lease_bucket(ns, id)));
    if (!removed) return not_found(lease_name(id));
    return ok_status();
}

Result<std::vector<Lease>> list(const Txn& txn, std::string_view ns,
                                const filters::Filter& filter) {
    std::vector<Lease> out;
    GANTRY_ASSIGN_OR_RETURN(auto ids,
                            list_buckets(txn, schema::object_bucket(ns, schema::kLeases)));
    for (const auto& id : ids) {
        GANTRY_ASSIGN_OR_RETURN(Lease lease, read_lease(txn, ns, id));
        filters::FieldsAdaptor adaptor;
        adaptor.add("id", lease.id).add_map("labels", lease.labels);
        if (filter.match(adaptor)) out.push_back(std::move(lease));
    }
    return out;
}

Status validate_resource(const Resource& r) {
    const std::string_view type = r.type;
    const auto slash = type.find('/');
    const std::string_view head = type.substr(0, slash);
    if (head == kContent || head == kIngests) {
        if (slash != std::string_view::npos)
            return invalid_argument("invalid resource type " + r.type);
        if (head == kContent) {
            if (auto valid = validate_digest(r.id); !valid.ok())
                return invalid_argument("invalid content resource id " + r.id + ": " +
                                        valid.error().message());
        }
        return ok_status();
    }
    if (head == schema::kSnapshots) {
        if (slash == std::string_view::npos || type.find('/', slash + 1) != std::string_view::npos)
            return invalid_argument("invalid snapshot resource type " + r.type);
        return ok_status();
    }
    return not_implemented("resource type " + r.type + " not supported yet");
}

Status add_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                    const Resource& r) {
    GANTRY_ASSIGN_OR_RETURN(bool exists, lease_exists(txn, ns, lease_id));
    if (!exists) return not_found(lease_name(lease_id));
    GANTRY_TRY(validate_resource(r));
    const BucketPath bucket = resource_bucket(ns, lease_id, r.type);
    GANTRY_TRY(ensure_bucket(txn, bucket));
    return put_value(txn, bucket, r.id, "");
}

Status delete_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                       const Resource& r) {
    GANTRY_ASSIGN_OR_RETURN(bool exists, lease_exists(txn, ns, lease_id));
    if (!exists) return not_found(lease_name(lease_id));
    GANTRY_TRY(validate_resource(r));
    GANTRY_ASSIGN_OR_RETURN(bool removed,
                            delete_value(txn, resource_bucket(ns, lease_id, r.type), r.id));
    (void)removed;
    return ok_status();
}

Result<std::vector<Resource>> list_resources(const Txn& txn, std::string_view ns,
                                             std::string_view lease_id) {
    GANTRY_ASSIGN_OR_RETURN(bool exists, lease_exists(txn, ns, lease_id));
    if (!exists) return not_found(lease_name(lease_id));
    const BucketPath lease = lease_bucket(ns, lease_id);
    std::vector<Resource> out;
    for (std::string_view type : {kContent, kIngests}) {
        GANTRY_ASSIGN_OR_RETURN(auto values, list_values(txn, lease.child(type)));
        for (auto& [id, value] : values)
            out.push_back({id, std::string(type)});
    }
    const BucketPath snaps = lease.child(schema::kSnapshots);
    GANTRY_ASSIGN_OR_RETURN(auto snapshotters, list_buckets(txn, snaps));
    for (const auto& sn : snapshotters) {
        GANTRY_ASSIGN_OR_RETURN(auto values, list_values(txn, snaps.child(sn)));
        for (auto& [key, value] : values)
            out.push_back({key, "snapshots/" + sn});
    }
    return out;
}

} // namespace gantry::metadata::leases
