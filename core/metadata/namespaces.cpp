#include "core/metadata/namespaces.hpp"

#include "core/metadata/go_quote.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/metadata/schema.hpp"

namespace gantry::metadata {

namespace {

constexpr std::string_view kLabelPathPrefix = "labels.";

Status validate_namespace_label(std::string_view key, std::string_view value) {
    if (key.empty()) return invalid_argument("namespace.Labels: label key must not be empty");
    if (auto valid = validate_label(key, value); !valid.ok())
        return std::move(valid).error().wrap("namespace.Labels");
    return ok_status();
}

std::string quoted_namespace(std::string_view name) {
    return "namespace " + go_quote(name);
}

} // namespace

Status ensure_namespace(WriteTxn& txn, std::string_view ns) {
    GANTRY_TRY(validate_identifier(ns));
    GANTRY_TRY(ensure_bucket(txn, schema::namespace_bucket(ns)));
    return ok_status();
}

namespace namespaces {

Status create(WriteTxn& txn, std::string_view name, const Labels& labels) {
    GANTRY_TRY(validate_identifier(name));
    for (const auto& [k, v] : labels)
        GANTRY_TRY(validate_namespace_label(k, v));

    const BucketPath bucket = schema::namespace_bucket(name);
    GANTRY_ASSIGN_OR_RETURN(bool created, ensure_bucket(txn, bucket));
    if (!created) return already_exists(quoted_namespace(name));
    const BucketPath label_bucket = bucket.child(schema::kLabels);
    GANTRY_TRY(ensure_bucket(txn, label_bucket));
    for (const auto& [k, v] : labels)
        GANTRY_TRY(put_value(txn, label_bucket, k, v));
    return ok_status();
}

Result<Labels> labels(const Txn& txn, std::string_view name) {
    return read_labels(txn, schema::namespace_bucket(name));
}

Result<bool> exists(const Txn& txn, std::string_view name) {
    return bucket_exists(txn, schema::namespace_bucket(name));
}

Result<std::vector<std::string>> list(const Txn& txn) {
    return list_buckets(txn, schema::v1());
}

Status update(WriteTxn& txn, std::string_view name, const Labels& labels,
              std::span<const std::string> paths) {
    GANTRY_TRY(validate_identifier(name));
    const BucketPath bucket = schema::namespace_bucket(name);

    if (!paths.empty()) {
        for (const std::string& path : paths) {
            if (!path.starts_with(kLabelPathPrefix))
                return invalid_argument("cannot update " + go_quote(path) + " field");
            const std::string key = path.substr(kLabelPathPrefix.size());
            auto it = labels.find(key);
            const std::string_view value = it == labels.end() ? "" : std::string_view(it->second);
            GANTRY_TRY(validate_namespace_label(key, value));
            GANTRY_TRY(ensure_namespace(txn, name));
            GANTRY_TRY(set_label(txn, bucket, key, value));
        }
        return ok_status();
    }

    for (const auto& [k, v] : labels)
        GANTRY_TRY(validate_namespace_label(k, v));
    GANTRY_ASSIGN_OR_RETURN(Labels current, read_labels(txn, bucket));
    // containerd writes (and so creates the namespace) only when there is a label to clear or set.
    if (current.empty() && labels.empty()) return ok_status();
    GANTRY_TRY(ensure_namespace(txn, name));
    return write_labels(txn, bucket, labels);
}

Status remove(WriteTxn& txn, std::string_view name) {
    std::vector<std::string> kinds;
    auto note_if_used = [&](const BucketPath& objects, std::string kind) -> Status {
        GANTRY_ASSIGN_OR_RETURN(bool empty, bucket_empty(txn, objects));
        if (!empty) kinds.push_back(std::move(kind));
        return ok_status();
    };
    GANTRY_TRY(note_if_used(schema::object_bucket(name, schema::kImages), "images"));
    GANTRY_TRY(note_if_used(schema::blobs_bucket(name), "blobs"));
    GANTRY_TRY(note_if_used(schema::object_bucket(name, schema::kContainers), "containers"));
    GANTRY_ASSIGN_OR_RETURN(auto snapshotters,
                            list_buckets(txn, schema::object_bucket(name, schema::kSnapshots)));
    for (const std::string& sn : snapshotters)
        GANTRY_TRY(note_if_used(schema::snapshotter_bucket(name, sn),
                                "snapshots on " + go_quote(sn) + " snapshotter"));

    if (!kinds.empty()) {
        std::string message = quoted_namespace(name) + " must be empty, but it still has ";
        for (std::size_t i = 0; i < kinds.size(); ++i) {
            if (i > 0) message += ", ";
            message += kinds[i];
        }
        return failed_precondition(std::move(message));
    }

    GANTRY_ASSIGN_OR_RETURN(bool deleted, delete_bucket(txn, schema::namespace_bucket(name)));
    if (!deleted) return not_found(quoted_namespace(name));
    return ok_status();
}

} // namespace namespaces

Status NamespaceStore::create(std::string_view name, const Labels& labels) {
    return db_->update([&](WriteTxn& txn) { return namespaces::create(txn, name, labels); });
}

Result<Labels> NamespaceStore::get(std::string_view name) const {
    return db_->view([&](const Txn& txn) { return namespaces::labels(txn, name); });
}

Result<std::vector<std::string>> NamespaceStore::list() const {
    return db_->view([](const Txn& txn) { return namespaces::list(txn); });
}

Status NamespaceStore::update_labels(std::string_view name, const Labels& labels,
                                     std::span<const std::string> paths) {
    return db_->update([&](WriteTxn& txn) { return namespaces::update(txn, name, labels, paths); });
}

Status NamespaceStore::remove(std::string_view name) {
    return db_->update([&](WriteTxn& txn) { return namespaces::remove(txn, name); });
}

} // namespace gantry::metadata
