#include "core/metadata/containers.hpp"

#include "core/filters/adaptor.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/go_quote.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"

#include <google/protobuf/any.pb.h>

namespace gantry::containers {

Status validate_container(const Container& c) {
    if (auto st = metadata::validate_identifier(c.id); !st.ok())
        return std::move(st).error().wrap("container.ID");
    for (const auto& [key, _] : c.extensions)
        if (key.empty())
            return invalid_argument("container.Extension keys must not be zero-length");
    if (auto st = metadata::validate_labels(c.labels); !st.ok())
        return std::move(st).error().wrap("containers.Labels"); // sic: containerd's plural
    if (c.runtime.name.empty()) return invalid_argument("container.Runtime.Name must be set");
    if (!c.spec) return invalid_argument("container.Spec must be set");
    if (!c.snapshot_key.empty() && c.snapshotter.empty())
        return invalid_argument(
            "container.Snapshotter must be set if container.SnapshotKey is set");
    return ok_status();
}

bool matches(const filters::Filter& filter, const Container& c) {
    if (filter.matches_everything()) return true;
    filters::FieldsAdaptor runtime;
    runtime.add("name", c.runtime.name);
    filters::FieldsAdaptor a;
    a.add("id", c.id)
        .add("image", c.image)
        .add_nested("runtime", runtime)
        .add_map("labels", c.labels);
    return filter.match(a);
}

} // namespace gantry::containers

namespace gantry::metadata::containers {

namespace {

using gantry::containers::Any;

BucketPath containers_bucket(std::string_view ns) {
    return schema::object_bucket(ns, schema::kContainers);
}

Error not_found_in_namespace(std::string_view id, std::string_view ns) {
    return not_found("container " + go_quote(id) + " in namespace " + go_quote(ns));
}

// An Any as containerd stores it: its protobuf encoding (type_url = 1, value = 2).
std::string encode_any(const Any& any) {
    google::protobuf::Any pb;
    pb.set_type_url(any.type_url);
    pb.set_value(any.value);
    return pb.SerializeAsString();
}

Result<Any> decode_any(std::string_view bytes, std::string_view what) {
    google::protobuf::Any pb;
    if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        return Error(Errc::DataLoss, "failed to unmarshal any: " + std::string(what));
    return Any{pb.type_url(), pb.value()};
}

// The record at `b`, which must exist. Like containerd's readContainer, one pass over the
// record's own values, then its three sub-buckets.
Result<Container> read_container(const Txn& txn, const BucketPath& b, std::string_view id) {
    Container c;
    c.id = std::string(id);
    bool has_runtime = false;
    bool has_extensions = false;
    Status st = for_each_child(txn, b, [&](const ChildEntry& e) -> Status {
        if (e.is_bucket) {
            if (e.name == schema::kRuntime) has_runtime = true;
            if (e.name == schema::kExtensions) has_extensions = true;
            return ok_status();
        }
        if (e.name == schema::kCreatedAt) {
            GANTRY_ASSIGN_OR_RETURN(c.created_at, decode_time(e.value));
        } else if (e.name == schema::kUpdatedAt) {
            GANTRY_ASSIGN_OR_RETURN(c.updated_at, decode_time(e.value));
        } else if (e.name == schema::kSpec) {
            GANTRY_ASSIGN_OR_RETURN(c.spec, decode_any(e.value, "spec"));
        } else if (e.name == schema::kImage) {
            c.image = std::string(e.value);
        } else if (e.name == schema::kSnapshotter) {
            c.snapshotter = std::string(e.value);
        } else if (e.name == schema::kSnapshotKey) {
            c.snapshot_key = std::string(e.value);
        }
        return ok_status();
    });
    if (st.ok() && has_runtime) {
        st = for_each_child(txn, b.child(schema::kRuntime), [&](const ChildEntry& e) -> Status {
            if (e.is_bucket) return ok_status();
            if (e.name == schema::kName) {
                c.runtime.name = std::string(e.value);
            } else if (e.name == schema::kOptions) {
                GANTRY_ASSIGN_OR_RETURN(c.runtime.options, decode_any(e.value, "runtime options"));
            }
            return ok_status();
        });
    }
    if (st.ok() && has_extensions) {
        st = for_each_child(txn, b.child(schema::kExtensions), [&](const ChildEntry& e) -> Status {
            if (e.is_bucket) return ok_status();
            GANTRY_ASSIGN_OR_RETURN(auto any, decode_any(e.value, "extension"));
            c.extensions.emplace(std::string(e.name), std::move(any));
            return ok_status();
        });
    }
    if (st.ok()) {
        auto labels = read_labels(txn, b);
        if (labels.ok()) {
            c.labels = std::move(labels).value();
        } else {
            st = std::move(labels).error();
        }
    }
    if (!st.ok()) return std::move(st).error().wrap("failed to read container " + go_quote(id));
    return c;
}

Status write_container(WriteTxn& txn, const BucketPath& b, const Container& c) {
    GANTRY_TRY(put_value(txn, b, schema::kCreatedAt, encode_time(c.created_at)));
    GANTRY_TRY(put_value(txn, b, schema::kUpdatedAt, encode_time(c.updated_at)));
    if (c.spec) {
        GANTRY_TRY(put_value(txn, b, schema::kSpec, encode_any(*c.spec)));
    } else {
        GANTRY_TRY(delete_value(txn, b, schema::kSpec));
    }
    GANTRY_TRY(put_value(txn, b, schema::kImage, c.image));
    GANTRY_TRY(put_value(txn, b, schema::kSnapshotter, c.snapshotter));
    GANTRY_TRY(put_value(txn, b, schema::kSnapshotKey, c.snapshot_key));
    // The runtime bucket is rewritten whole, so options that were dropped disappear.
    const BucketPath rt = b.child(schema::kRuntime);
    GANTRY_TRY(delete_bucket(txn, rt));
    GANTRY_TRY(ensure_bucket(txn, rt));
    GANTRY_TRY(put_value(txn, rt, schema::kName, c.runtime.name));
    if (c.runtime.options)
        GANTRY_TRY(put_value(txn, rt, schema::kOptions, encode_any(*c.runtime.options)));
    const BucketPath ext = b.child(schema::kExtensions);
    GANTRY_TRY(delete_bucket(txn, ext));
    for (const auto& [name, any] : c.extensions)
        GANTRY_TRY(put_value(txn, ext, name, encode_any(any)));
    return write_labels(txn, b, c.labels);
}

// Empty label values are never stored: the returned container shows what a later read will.
void drop_empty_labels(Container& c) {
    std::erase_if(c.labels, [](const auto& kv) { return kv.second.empty(); });
}

} // namespace

Result<Container> get(const Txn& txn, std::string_view ns, std::string_view id) {
    if (id.empty()) return not_found_in_namespace(id, ns);
    const BucketPath b = containers_bucket(ns).child(id);
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, b));
    if (!exists) return not_found_in_namespace(id, ns);
    return read_container(txn, b, id);
}

Result<std::vector<Container>> list(const Txn& txn, std::string_view ns,
                                    const filters::Filter& filter) {
    const BucketPath all = containers_bucket(ns);
    GANTRY_ASSIGN_OR_RETURN(auto ids, list_buckets(txn, all));
    std::vector<Container> out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        GANTRY_ASSIGN_OR_RETURN(Container c, read_container(txn, all.child(id), id));
        if (gantry::containers::matches(filter, c)) out.push_back(std::move(c));
    }
    return out;
}

Result<Container> create(WriteTxn& txn, std::string_view ns, const Container& container,
                         Timestamp now) {
    if (auto st = gantry::containers::validate_container(container); !st.ok())
        return std::move(st).error().wrap("create container failed validation");
    GANTRY_TRY(ensure_namespace(txn, ns));
    const BucketPath b = containers_bucket(ns).child(container.id);
    GANTRY_ASSIGN_OR_RETURN(bool created, ensure_bucket(txn, b));
    if (!created) return already_exists("container " + go_quote(container.id));
    Container c = container;
    c.created_at = now;
    c.updated_at = now;
    drop_empty_labels(c);
    GANTRY_TRY(write_container(txn, b, c));
    return c;
}

Result<Container> update(WriteTxn& txn, std::string_view ns, const Container& container,
                         std::span<const std::string> paths, Timestamp now) {
    const std::string& id = container.id;
    if (id.empty()) return invalid_argument("must specify a container id");
    const BucketPath all = containers_bucket(ns);
    GANTRY_ASSIGN_OR_RETURN(bool any_exist, bucket_exists(txn, all));
    if (!any_exist)
        return not_found("cannot update container " + go_quote(id) + " in namespace " +
                         go_quote(ns));
    const BucketPath b = all.child(id);
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, b));
    if (!exists) return not_found("container " + go_quote(id));
    GANTRY_ASSIGN_OR_RETURN(Container updated, read_container(txn, b, id));
    const Timestamp created = updated.created_at;

    // With no mask only these fields are replaced; the immutable ones must match, so that making
    // them mutable later changes no client's outcome (containerd's reasoning).
    static const std::vector<std::string> kFullReplace{"labels", "spec", "extensions", "image",
                                                       "snapshotkey"};
    if (paths.empty()) {
        if (updated.snapshotter != container.snapshotter)
            return invalid_argument("container.Snapshotter field is immutable");
        if (updated.runtime.name != container.runtime.name)
            return invalid_argument("container.Runtime.Name field is immutable");
        paths = kFullReplace;
    }
    for (const auto& path : paths) {
        if (path.starts_with("labels.")) {
            const std::string key = path.substr(7);
            auto it = container.labels.find(key);
            updated.labels[key] = it == container.labels.end() ? std::string() : it->second;
        } else if (path.starts_with("extensions.")) {
            const std::string key = path.substr(11);
            auto it = container.extensions.find(key);
            if (it == container.extensions.end()) {
                updated.extensions.erase(key);
            } else {
                updated.extensions[key] = it->second;
            }
        } else if (path == "labels") {
            updated.labels = container.labels;
        } else if (path == "spec") {
            updated.spec = container.spec;
        } else if (path == "extensions") {
            updated.extensions = container.extensions;
        } else if (path == "image") {
            updated.image = container.image;
        } else if (path == "snapshotkey") {
            updated.snapshot_key = container.snapshot_key;
        } else {
            return invalid_argument("cannot update " + go_quote(path) + " field on " +
                                    go_quote(id));
        }
    }
    if (auto st = gantry::containers::validate_container(updated); !st.ok())
        return std::move(st).error().wrap("update failed validation");
    updated.created_at = created;
    updated.updated_at = now;
    drop_empty_labels(updated);
    GANTRY_TRY(write_container(txn, b, updated));
    return updated;
}

Status remove(WriteTxn& txn, std::string_view ns, std::string_view id) {
    const BucketPath all = containers_bucket(ns);
    GANTRY_ASSIGN_OR_RETURN(bool any_exist, bucket_exists(txn, all));
    if (!any_exist)
        return not_found("cannot delete container " + go_quote(id) + " in namespace " +
                         go_quote(ns));
    // containerd formats this one with %v: the id is not quoted.
    if (id.empty()) return not_found("container " + std::string(id));
    GANTRY_ASSIGN_OR_RETURN(bool existed, delete_bucket(txn, all.child(id)));
    if (!existed) return not_found("container " + std::string(id));
    return ok_status();
}

} // namespace gantry::metadata::containers
