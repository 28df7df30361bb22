// Bolt-like buckets over the LMDB keyspace (layout in schema.hpp): the generic helpers every typed
// store (namespaces, images, containers, content, snapshots, leases) builds on. Each takes the
// caller's transaction, so a service can do several of them atomically in one WriteTxn.
#pragma once

#include "core/errors.hpp"
#include "core/metadata/keys.hpp"
#include "core/metadata/lmdb.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::metadata {

using Labels = std::map<std::string, std::string>;

// ---- buckets ----

// The top always exists; any other bucket exists once something created it.
Result<bool> bucket_exists(const Txn& txn, const BucketPath& path);
// Creates the bucket and any missing ancestor. Returns true if the bucket did not exist before.
Result<bool> ensure_bucket(WriteTxn& txn, const BucketPath& path);
// Deletes the bucket with everything below it. Returns false if it did not exist.
Result<bool> delete_bucket(WriteTxn& txn, const BucketPath& path);
// True if the bucket holds nothing, not even an empty child bucket (or does not exist).
Result<bool> bucket_empty(const Txn& txn, const BucketPath& path);

// ---- values held directly in a bucket ----

Result<std::optional<std::string>> get_value(const Txn& txn, const BucketPath& bucket,
                                             std::string_view name);
// Creates the bucket (and its ancestors) if needed.
Status put_value(WriteTxn& txn, const BucketPath& bucket, std::string_view name,
                 std::string_view value);
// Returns whether the value existed.
Result<bool> delete_value(WriteTxn& txn, const BucketPath& bucket, std::string_view name);

// ---- listing ----

struct ChildEntry {
    std::string_view name;
    bool is_bucket;
    std::string_view value; // empty for a bucket
};

// Calls `fn` once per direct child (bucket or value) of `bucket`, in key order, without visiting
// grandchildren. Names longer than kMaxPlainComponent may come out of byte order. `fn` must not
// write to the transaction; an error from it stops the walk and is returned.
Status for_each_child(const Txn& txn, const BucketPath& bucket,
                      const std::function<Status(const ChildEntry&)>& fn);
// Names of the child buckets, sorted bytewise.
Result<std::vector<std::string>> list_buckets(const Txn& txn, const BucketPath& bucket);
// The values held directly in the bucket, sorted by name.
Result<std::vector<std::pair<std::string, std::string>>> list_values(const Txn& txn,
                                                                     const BucketPath& bucket);

// ---- label maps: the sub-bucket `labels` of an object ----

// Empty if the object has no labels bucket.
Result<Labels> read_labels(const Txn& txn, const BucketPath& object);
// Replaces all labels. Empty values are not stored; an empty map removes the labels bucket.
Status write_labels(WriteTxn& txn, const BucketPath& object, const Labels& labels);
// Sets one label; an empty value deletes it.
Status set_label(WriteTxn& txn, const BucketPath& object, std::string_view key,
                 std::string_view value);

} // namespace gantry::metadata
