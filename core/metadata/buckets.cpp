#include "core/metadata/buckets.hpp"

#include "core/metadata/schema.hpp"

#include <algorithm>

namespace gantry::metadata {

namespace {

// A value stored under a hashed name carries the full name in front: 4-byte big-endian length,
// the name, then the value itself.
std::string wrap_named(std::string_view name, std::string_view value) {
    std::string out;
    out.reserve(4 + name.size() + value.size());
    auto n = static_cast<std::uint32_t>(name.size());
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>(n >> shift));
    out.append(name);
    out.append(value);
    return out;
}

struct Named {
    std::string_view name;
    std::string_view value;
};

std::optional<Named> unwrap_named(std::string_view stored) {
    if (stored.size() < 4) return std::nullopt;
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
        n = (n << 8) | static_cast<unsigned char>(stored[i]);
    if (stored.size() - 4 < n) return std::nullopt;
    return Named{stored.substr(4, n), stored.substr(4 + n)};
}

Error collision(std::string_view name) {
    return internal_error("metadata: stored name differs from \"" +
                          std::string(name.substr(0, 64)) + "...\" under the same hash");
}

Error malformed(std::string_view where) {
    return Error(Errc::DataLoss, "metadata: malformed key in " + std::string(where));
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.substr(0, prefix.size()) == prefix;
}

// For each hashed name on the path, its bucket's marker must hold that very name; otherwise the
// path leads into another name's bucket (a hash collision) and, for this caller, does not exist.
Result<bool> hashed_path_matches(const Txn& txn, const BucketPath& path) {
    if (!path.has_hashed_name()) return true;
    std::string prefix;
    for (const auto& name : path.names()) {
        append_component(prefix, name, ComponentKind::Bucket);
        if (!is_hashed_name(name)) continue;
        GANTRY_ASSIGN_OR_RETURN(auto marker, txn.get(prefix));
        if (!marker || *marker != name) return false;
    }
    return true;
}

// Positions a fresh cursor on the first child entry of `bucket` (past its marker).
Result<std::optional<Cursor::Entry>> first_child(Cursor& cursor, const BucketPath& bucket) {
    // Every bucket but the top has a non-empty prefix; for the top, "" seeks to the first key.
    // LMDB refuses an empty key, so seek to the smallest non-empty one instead.
    const std::string& prefix = bucket.prefix();
    GANTRY_ASSIGN_OR_RETURN(auto entry, cursor.seek(prefix.empty() ? std::string_view("\0", 1)
                                                                   : std::string_view(prefix)));
    if (entry && !prefix.empty() && entry->key == prefix) return cursor.next();
    return entry;
}

} // namespace

Result<bool> bucket_exists(const Txn& txn, const BucketPath& path) {
    if (path.is_top()) return true;
    GANTRY_ASSIGN_OR_RETURN(auto marker, txn.get(path.prefix()));
    if (!marker) return false;
    return hashed_path_matches(txn, path);
}

Result<bool> ensure_bucket(WriteTxn& txn, const BucketPath& path) {
    if (path.is_top()) return false;
    // Fast path: a marker implies markers for all ancestors.
    GANTRY_ASSIGN_OR_RETURN(auto marker, txn.get(path.prefix()));
    if (marker) {
        GANTRY_ASSIGN_OR_RETURN(bool matches, hashed_path_matches(txn, path));
        if (!matches) return collision(path.names().back());
        return false;
    }
    std::string prefix;
    for (const auto& name : path.names()) {
        append_component(prefix, name, ComponentKind::Bucket);
        const bool hashed = is_hashed_name(name);
        GANTRY_ASSIGN_OR_RETURN(auto existing, txn.get(prefix));
        if (existing) {
            if (hashed && *existing != name) return collision(name);
            continue;
        }
        GANTRY_TRY(txn.put(prefix, hashed ? std::string_view(name) : std::string_view()));
    }
    return true;
}

Result<bool> delete_bucket(WriteTxn& txn, const BucketPath& path) {
    if (path.is_top()) return invalid_argument("metadata: the top bucket cannot be deleted");
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, path));
    if (!exists) return false;

    // Collect first: deleting under an open cursor would need LMDB's cursor fix-up rules.
    std::vector<std::string> keys;
    {
        GANTRY_ASSIGN_OR_RETURN(Cursor cursor, txn.cursor());
        GANTRY_ASSIGN_OR_RETURN(auto entry, cursor.seek(path.prefix()));
        while (entry && starts_with(entry->key, path.prefix())) {
            keys.emplace_back(entry->key);
            GANTRY_ASSIGN_OR_RETURN(entry, cursor.next());
        }
    }
    for (const auto& key : keys)
        GANTRY_TRY(txn.del(key));
    return true;
}

Result<bool> bucket_empty(const Txn& txn, const BucketPath& path) {
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, path));
    if (!exists) return true;
    GANTRY_ASSIGN_OR_RETURN(Cursor cursor, txn.cursor());
    GANTRY_ASSIGN_OR_RETURN(auto entry, first_child(cursor, path));
    return !entry || !starts_with(entry->key, path.prefix());
}

Result<std::optional<std::string>> get_value(const Txn& txn, const BucketPath& bucket,
                                             std::string_view name) {
    GANTRY_ASSIGN_OR_RETURN(auto stored, txn.get(bucket.value_key(name)));
    if (!stored) return std::optional<std::string>{};
    GANTRY_ASSIGN_OR_RETURN(bool matches, hashed_path_matches(txn, bucket));
    if (!matches) return std::optional<std::string>{};
    if (!is_hashed_name(name)) return std::optional<std::string>{std::string(*stored)};
    auto named = unwrap_named(*stored);
    if (!named) return malformed("value of a long name");
    if (named->name != name) return std::optional<std::string>{};
    return std::optional<std::string>{std::string(named->value)};
}

Status put_value(WriteTxn& txn, const BucketPath& bucket, std::string_view name,
                 std::string_view value) {
    GANTRY_TRY(ensure_bucket(txn, bucket));
    std::string key = bucket.value_key(name);
    if (!is_hashed_name(name)) return txn.put(key, value);
    GANTRY_ASSIGN_OR_RETURN(auto existing, txn.get(key));
    if (existing) {
        auto named = unwrap_named(*existing);
        if (!named || named->name != name) return collision(name);
    }
    return txn.put(key, wrap_named(name, value));
}

Result<bool> delete_value(WriteTxn& txn, const BucketPath& bucket, std::string_view name) {
    std::string key = bucket.value_key(name);
    if (is_hashed_name(name) || bucket.has_hashed_name()) {
        GANTRY_ASSIGN_OR_RETURN(auto existing, get_value(txn, bucket, name));
        if (!existing) return false;
    }
    return txn.del(key);
}

Status for_each_child(const Txn& txn, const BucketPath& bucket,
                      const std::function<Status(const ChildEntry&)>& fn) {
    GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, bucket));
    if (!exists) return ok_status();
    const std::string& prefix = bucket.prefix();
    GANTRY_ASSIGN_OR_RETURN(Cursor cursor, txn.cursor());
    GANTRY_ASSIGN_OR_RETURN(auto entry, first_child(cursor, bucket));
    while (entry && starts_with(entry->key, prefix)) {
        std::string_view rest = entry->key.substr(prefix.size());
        auto component = decode_component(rest);
        if (!component) return malformed(prefix.empty() ? "the top bucket" : "a bucket");

        if (component->kind == ComponentKind::Bucket) {
            // Normally this is the child's marker; without one (never written so) the child is
            // still reported once, under the name its key spells.
            const bool is_marker = rest.size() == component->size;
            std::string_view name = component->name;
            if (component->hashed) {
                if (!is_marker) return malformed("a long bucket name without its marker");
                name = entry->value;
            }
            GANTRY_TRY(fn(ChildEntry{name, true, {}}));
            // Past the child's subtree: its prefix with the bucket terminator raised by one.
            std::string past(entry->key.substr(0, prefix.size() + component->size));
            past.back() = static_cast<char>(ComponentKind::Value);
            GANTRY_ASSIGN_OR_RETURN(entry, cursor.seek(past));
            continue;
        }

        if (rest.size() != component->size) return malformed("a value key");
        if (component->hashed) {
            auto named = unwrap_named(entry->value);
            if (!named) return malformed("value of a long name");
            GANTRY_TRY(fn(ChildEntry{named->name, false, named->value}));
        } else {
            GANTRY_TRY(fn(ChildEntry{component->name, false, entry->value}));
        }
        GANTRY_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return ok_status();
}

Result<std::vector<std::string>> list_buckets(const Txn& txn, const BucketPath& bucket) {
    std::vector<std::string> names;
    GANTRY_TRY(for_each_child(txn, bucket, [&](const ChildEntry& child) {
        if (child.is_bucket) names.emplace_back(child.name);
        return ok_status();
    }));
    // Already sorted unless a long (hashed) name is among them.
    if (!std::is_sorted(names.begin(), names.end())) std::sort(names.begin(), names.end());
    return names;
}

Result<std::vector<std::pair<std::string, std::string>>> list_values(const Txn& txn,
                                                                     const BucketPath& bucket) {
    std::vector<std::pair<std::string, std::string>> values;
    GANTRY_TRY(for_each_child(txn, bucket, [&](const ChildEntry& child) {
        if (!child.is_bucket) values.emplace_back(child.name, child.value);
        return ok_status();
    }));
    if (!std::is_sorted(values.begin(), values.end())) std::sort(values.begin(), values.end());
    return values;
}

Result<Labels> read_labels(const Txn& txn, const BucketPath& object) {
    GANTRY_ASSIGN_OR_RETURN(auto values, list_values(txn, object.child(schema::kLabels)));
    Labels labels;
    for (auto& [k, v] : values)
        labels.emplace(std::move(k), std::move(v));
    return labels;
}

Status write_labels(WriteTxn& txn, const BucketPath& object, const Labels& labels) {
    BucketPath bucket = object.child(schema::kLabels);
    GANTRY_TRY(delete_bucket(txn, bucket));
    for (const auto& [k, v] : labels)
        if (!v.empty()) GANTRY_TRY(put_value(txn, bucket, k, v));
    return ok_status();
}

Status set_label(WriteTxn& txn, const BucketPath& object, std::string_view key,
                 std::string_view value) {
    BucketPath bucket = object.child(schema::kLabels);
    if (value.empty()) {
        GANTRY_TRY(delete_value(txn, bucket, key));
        return ok_status();
    }
    return put_value(txn, bucket, key, value);
}

} // namespace gantry::metadata
