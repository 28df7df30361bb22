// Namespaces (protocol-facts.md §1.2, §2.9, §4): the buckets v1/<ns>, their labels, and the rules
// of containerd's namespace store and service. Every other typed store keys its objects under
// v1/<ns>/... through schema.hpp's builders, which is what keeps namespaces apart.
//
// Behaviour follows containerd 1.6's metadata/namespaces.go and services/namespaces/local.go:
// - Namespaces are implicit: any write in one creates it (ensure_namespace), and Get of a missing
//   namespace is empty labels, never NotFound.
// - Update does not require the namespace to exist: setting a label creates it, like containerd.
//   Unlike containerd, Update validates the name as an identifier, so it cannot create a
//   namespace that no request header could ever name.
// - Create stores its labels as given, an empty value included (containerd does; Update and the
//   generic label helpers never store empty values). An empty label key is refused, as bolt does.
#pragma once

#include "core/errors.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/lmdb.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::metadata {

// Creates v1/<ns> if missing; InvalidArgument if `ns` is not an identifier. Every typed store
// calls this before its first write in a namespace.
Status ensure_namespace(WriteTxn& txn, std::string_view ns);

namespace namespaces {

// InvalidArgument for a bad name or label; AlreadyExists `namespace "<n>"` if it exists.
Status create(WriteTxn& txn, std::string_view name, const Labels& labels);
// The namespace's labels; empty if it does not exist.
Result<Labels> labels(const Txn& txn, std::string_view name);
Result<bool> exists(const Txn& txn, std::string_view name);
// All namespaces, sorted bytewise.
Result<std::vector<std::string>> list(const Txn& txn);
// With mask paths: only "labels.<key>" is accepted, setting that key to labels[key] or deleting it
// when the request has no value; any other path (a bare "labels" included) is InvalidArgument
// `cannot update "<path>" field`. Without paths: the labels are replaced by `labels`.
Status update(WriteTxn& txn, std::string_view name, const Labels& labels,
              std::span<const std::string> paths);
// NotFound `namespace "<n>"` if absent; FailedPrecondition `namespace "<n>" must be empty, but it
// still has images, blobs, containers, snapshots on "<sn>" snapshotter` (the kinds present) while
// it holds any of those. Leases, ingests and labels go with the namespace.
Status remove(WriteTxn& txn, std::string_view name);

} // namespace namespaces

// One transaction per call, for callers that need no more. `db` must outlive the store.
class NamespaceStore {
public:
    explicit NamespaceStore(Database& db) noexcept : db_(&db) {}

    Status create(std::string_view name, const Labels& labels);
    Result<Labels> get(std::string_view name) const;
    Result<std::vector<std::string>> list() const;
    Status update_labels(std::string_view name, const Labels& labels,
                         std::span<const std::string> paths);
    Status remove(std::string_view name);

private:
    Database* db_;
};

} // namespace gantry::metadata
