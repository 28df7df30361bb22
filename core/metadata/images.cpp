#include "core/metadata/images.hpp"

#include "core/filters/adaptor.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"

namespace gantry::images {

Status validate_image(const Image& image) {
    if (image.name.empty()) return invalid_argument("image name must not be empty");
    if (auto st = metadata::validate_labels(image.labels); !st.ok())
        return std::move(st).error().wrap("image.Labels");
    if (auto st = metadata::validate_digest(image.target.digest); !st.ok())
        return invalid_argument("Target.Digest \"" + image.target.digest +
                                "\" invalid: " + st.error().message());
    if (image.target.size <= 0) return invalid_argument("Target.Size must be greater than zero");
    if (image.target.media_type.empty()) return invalid_argument("Target.MediaType must be set");
    return ok_status();
}

bool matches(const filters::Filter& filter, const Image& image) {
    if (filter.matches_everything()) return true;
    filters::FieldsAdaptor target;
    target.add("digest", image.target.digest).add("mediatype", image.target.media_type);
    filters::FieldsAdaptor a;
    a.add("name", image.name)
        .add_nested("target", target)
        .add_map("labels", image.labels)
        .add_map("annotations", image.target.annotations);
    return filter.match(a);
}

} // namespace gantry::images

namespace gantry::metadata::images {

namespace {

BucketPath image_bucket(std::string_view ns, std::string_view name) {
    return schema::object_bucket(ns, schema::kImages).child(name);
}

Error not_found_image(std::string_view name) {
    return not_found("image \"" + std::string(name) + "\"");
}

Result<Timestamp> read_time(const Txn& txn, const BucketPath& b, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto v, get_value(txn, b, key));
    if (!v) return Timestamp{};
    return decode_time(*v);
}

// The record at `b`, which must exist.
Result<Image> read_image(const Txn& txn, const BucketPath& b, std::string_view name) {
    Image img;
    img.name = std::string(name);
    GANTRY_ASSIGN_OR_RETURN(img.created_at, read_time(txn, b, schema::kCreatedAt));
    GANTRY_ASSIGN_OR_RETURN(img.updated_at, read_time(txn, b, schema::kUpdatedAt));
    GANTRY_ASSIGN_OR_RETURN(img.labels, read_labels(txn, b));
    GANTRY_ASSIGN_OR_RETURN(auto ann, list_values(txn, b.child(schema::kAnnotations)));
    for (auto& [k, v] : ann)
        img.target.annotations.emplace(std::move(k), std::move(v));
    Status st = for_each_child(txn, b.child(schema::kTarget), [&](const ChildEntry& e) -> Status {
        if (e.is_bucket) return ok_status();
        if (e.name == schema::kDigest) {
            img.target.digest = std::string(e.value);
        } else if (e.name == schema::kMediaType) {
            img.target.media_type = std::string(e.value);
        } else if (e.name == schema::kSize) {
            GANTRY_ASSIGN_OR_RETURN(img.target.size, decode_varint(e.value));
        }
        return ok_status();
    });
    if (!st.ok()) return std::move(st).error().wrap("image \"" + img.name + "\"");
    return img;
}

Status write_image(WriteTxn& txn, const BucketPath& b, const Image& img) {
    GANTRY_TRY(put_value(txn, b, schema::kCreatedAt, encode_time(img.created_at)));
    GANTRY_TRY(put_value(txn, b, schema::kUpdatedAt, encode_time(img.updated_at)));
    GANTRY_TRY(write_labels(txn, b, img.labels));
    const BucketPath ann = b.child(schema::kAnnotations);
    GANTRY_TRY(delete_bucket(txn, ann));
    for (const auto& [k, v] : img.target.annotations)
        if (!v.empty()) GANTRY_TRY(put_value(txn, ann, k, v));
    const BucketPath t = b.child(schema::kTarget);
    GANTRY_TRY(put_value(txn, t, schema::kDigest, img.target.digest));
    GANTRY_TRY(put_value(txn, t, schema::kMediaType, img.target.media_type));
    GANTRY_TRY(put_value(txn, t, schema::kSize, encode_varint(img.target.size)));
    return ok_status();
}

// Empty values are never stored: the returned image shows what a later read will.
void drop_empty(std::map<std::string, std::string>& m) {
    std::erase_if(m, [](const auto& kv) { return kv.second.empty(); });
}

} // namespace

Result<Image> get(const Txn& txn, std::string_view ns, std::string_view name) {
    if (name.empty()) return invalid_argument("image name must not be empty");
    const BucketPath b = image_bucket(ns, name);
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, b));
    if (!exists) return not_found_image(name);
    return read_image(txn, b, name);
}

Result<std::vector<Image>> list(const Txn& txn, std::string_view ns,
                                const filters::Filter& filter) {
    const BucketPath all = schema::object_bucket(ns, schema::kImages);
    std::vector<std::string> names;
    GANTRY_TRY(for_each_child(txn, all, [&](const ChildEntry& e) -> Status {
        if (e.is_bucket) names.emplace_back(e.name);
        return ok_status();
    }));
    std::sort(names.begin(), names.end()); // hashed long names may come out of byte order
    std::vector<Image> out;
    out.reserve(names.size());
    for (const auto& name : names) {
        GANTRY_ASSIGN_OR_RETURN(Image img, read_image(txn, all.child(name), name));
        if (gantry::images::matches(filter, img)) out.push_back(std::move(img));
    }
    return out;
}

Result<Image> create(WriteTxn& txn, std::string_view ns, const Image& image, Timestamp now) {
    GANTRY_TRY(gantry::images::validate_image(image));
    GANTRY_TRY(ensure_namespace(txn, ns));
    const BucketPath b = image_bucket(ns, image.name);
    GANTRY_ASSIGN_OR_RETURN(bool created, ensure_bucket(txn, b));
    if (!created) return already_exists("image \"" + image.name + "\"");
    Image img = image;
    img.created_at = now;
    img.updated_at = now;
    drop_empty(img.labels);
    drop_empty(img.target.annotations);
    GANTRY_TRY(write_image(txn, b, img));
    return img;
}

Result<Image> update(WriteTxn& txn, std::string_view ns, const Image& image,
                     std::span<const std::string> paths, Timestamp now) {
    if (image.name.empty()) return invalid_argument("image name is required for update");
    const BucketPath b = image_bucket(ns, image.name);
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, b));
    if (!exists) return not_found_image(image.name);
    GANTRY_ASSIGN_OR_RETURN(Image updated, read_image(txn, b, image.name));
    const Timestamp created = updated.created_at;
    if (paths.empty()) {
        updated = image;
    } else {
        const auto value_of = [](const std::map<std::string, std::string>& m,
                                 const std::string& k) {
            auto it = m.find(k);
            return it == m.end() ? std::string() : it->second;
        };
        for (const auto& path : paths) {
            if (path.starts_with("labels.")) {
                const std::string key = path.substr(7);
                updated.labels[key] = value_of(image.labels, key);
            } else if (path.starts_with("annotations.")) {
                const std::string key = path.substr(12);
                updated.target.annotations[key] = value_of(image.target.annotations, key);
            } else if (path == "labels") {
                updated.labels = image.labels;
            } else if (path == "target") {
                updated.target = image.target;
            } else if (path == "annotations") {
                updated.target.annotations = image.target.annotations;
            } else {
                return invalid_argument("cannot update \"" + path + "\" field on image \"" +
                                        image.name + "\"");
            }
        }
    }
    GANTRY_TRY(gantry::images::validate_image(updated));
    updated.created_at = created;
    updated.updated_at = now;
    drop_empty(updated.labels);
    drop_empty(updated.target.annotations);
    GANTRY_TRY(write_image(txn, b, updated));
    return updated;
}

Status remove(WriteTxn& txn, std::string_view ns, std::string_view name) {
    if (name.empty()) return invalid_argument("image name must not be empty");
    GANTRY_ASSIGN_OR_RETURN(bool existed, delete_bucket(txn, image_bucket(ns, name)));
    if (!existed) return not_found_image(name);
    return ok_status();
}

} // namespace gantry::metadata::images
