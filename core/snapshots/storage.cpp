// Backend-private snapshot state in LMDB (see storage.hpp).
//
// One sorted keyspace in the environment's single database:
//
//   v1/seq                                  -> u64 big-endian: the last id handed out
//   v1/s/<backend key>                      -> record (below)
//   v1/p/<u64 parent id><u64 child id>      -> child's backend key   (both big-endian)
//
// Big-endian ids keep one parent's children together, so "has children" and "list children" are
// one prefix scan of `v1/p/<parent id>`. A backend key is limited by LMDB's key size (511 bytes
// minus the 5-byte prefix); longer keys are refused with InvalidArgument.
//
// Record value, version 1 (all integers big-endian):
//   u8 version=1 | u64 id | u8 kind | str parent | i64 created.s | i32 created.ns
//   | i64 updated.s | i32 updated.ns | i64 size | i64 inodes | u32 n | n x (str key, str value)
// where str = u32 length + bytes.
#include "core/snapshots/storage.hpp"

#include "core/filters/adaptor.hpp"
#include "core/filters/filter.hpp"

#include <chrono>
#include <cstring>

namespace gantry::snapshots::storage {

namespace {

constexpr std::string_view kSeqKey = "v1/seq";
constexpr std::string_view kSnapPrefix = "v1/s/";
constexpr std::string_view kParentPrefix = "v1/p/";
constexpr std::size_t kMaxKey = 511 - kSnapPrefix.size();

void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i)
        out += static_cast<char>((v >> (i * 8)) & 0xff);
}
void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 3; i >= 0; --i)
        out += static_cast<char>((v >> (i * 8)) & 0xff);
}
void put_str(std::string& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out += s;
}

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool ok() const noexcept { return ok_; }
    bool done() const noexcept { return in_.empty(); }
    std::uint64_t u64() { return uint(8); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }
    std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
    std::string str() {
        auto n = u32();
        if (!ok_ || in_.size() < n) {
            ok_ = false;
            return {};
        }
        std::string s(in_.substr(0, n));
        in_.remove_prefix(n);
        return s;
    }

private:
    std::uint64_t uint(std::size_t n) {
        if (in_.size() < n) {
            ok_ = false;
            return 0;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i)
            v = (v << 8) | static_cast<unsigned char>(in_[i]);
        in_.remove_prefix(n);
        return v;
    }
    std::string_view in_;
    bool ok_ = true;
};

std::string snap_key(std::string_view key) {
    std::string k(kSnapPrefix);
    k += key;
    return k;
}

std::string parent_prefix(std::uint64_t parent) {
    std::string k(kParentPrefix);
    put_u64(k, parent);
    return k;
}

std::string parent_link(std::uint64_t parent, std::uint64_t child) {
    auto k = parent_prefix(parent);
    put_u64(k, child);
    return k;
}

std::string encode(const Record& r) {
    std::string out;
    out += static_cast<char>(1);
    put_u64(out, r.id);
    out += static_cast<char>(static_cast<int>(r.info.kind));
    put_str(out, r.info.parent);
    put_u64(out, static_cast<std::uint64_t>(r.info.created_at.seconds));
    put_u32(out, static_cast<std::uint32_t>(r.info.created_at.nanos));
    put_u64(out, static_cast<std::uint64_t>(r.info.updated_at.seconds));
    put_u32(out, static_cast<std::uint32_t>(r.info.updated_at.nanos));
    put_u64(out, static_cast<std::uint64_t>(r.usage.size));
    put_u64(out, static_cast<std::uint64_t>(r.usage.inodes));
    put_u32(out, static_cast<std::uint32_t>(r.info.labels.size()));
    for (const auto& [k, v] : r.info.labels) {
        put_str(out, k);
        put_str(out, v);
    }
    return out;
}

Result<Record> decode(std::string_view key, std::string_view bytes) {
    Reader rd(bytes);
    Record r;
    auto version = rd.u8();
    if (rd.ok() && version != 1)
        return Error(Errc::DataLoss, "snapshot record \"" + std::string(key) +
                                         "\": unknown version " + std::to_string(version));
    r.id = rd.u64();
    auto kind = rd.u8();
    // An unknown kind reads as committed (protocol-facts §8.1): it can then be neither mounted
    // nor committed again.
    r.info.kind = (kind >= 1 && kind <= 3) ? static_cast<Kind>(kind) : Kind::committed;
    r.info.parent = rd.str();
    r.info.created_at.seconds = static_cast<std::int64_t>(rd.u64());
    r.info.created_at.nanos = static_cast<std::int32_t>(rd.u32());
    r.info.updated_at.seconds = static_cast<std::int64_t>(rd.u64());
    r.info.updated_at.nanos = static_cast<std::int32_t>(rd.u32());
    r.usage.size = static_cast<std::int64_t>(rd.u64());
    r.usage.inodes = static_cast<std::int64_t>(rd.u64());
    auto n = rd.u32();
    for (std::uint32_t i = 0; i < n && rd.ok(); ++i) {
        auto k = rd.str();
        auto v = rd.str();
        r.info.labels.emplace(std::move(k), std::move(v));
    }
    if (!rd.ok() || !rd.done())
        return Error(Errc::DataLoss, "snapshot record \"" + std::string(key) + "\" is corrupt");
    r.info.name = std::string(key);
    return r;
}

Status check_key(std::string_view key, std::string_view what) {
    if (key.empty()) return invalid_argument(std::string(what) + " must not be empty");
    if (key.size() > kMaxKey)
        return invalid_argument(std::string(what) + " is " + std::to_string(key.size()) +
                                " bytes, longer than the " + std::to_string(kMaxKey) +
                                " this snapshotter can store");
    return ok_status();
}

// The record of `key`, or nullopt.
Result<std::optional<Record>> find(const metadata::Txn& tx, std::string_view key) {
    if (key.empty() || key.size() > kMaxKey) return std::optional<Record>{};
    GANTRY_ASSIGN_OR_RETURN(auto v, tx.get(snap_key(key)));
    if (!v) return std::optional<Record>{};
    GANTRY_ASSIGN_OR_RETURN(auto r, decode(key, *v));
    return std::optional<Record>(std::move(r));
}

Result<Record> must_find(const metadata::Txn& tx, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto r, find(tx, key));
    if (!r) return not_found("snapshot " + std::string(key) + " does not exist");
    return std::move(*r);
}

Status put(metadata::WriteTxn& tx, const Record& r) {
    return tx.put(snap_key(r.info.name), encode(r));
}

Timestamp now() {
    return metadata::to_timestamp(std::chrono::system_clock::now());
}

Result<std::uint64_t> next_id(metadata::WriteTxn& tx) {
    GANTRY_ASSIGN_OR_RETURN(auto v, tx.get(kSeqKey));
    std::uint64_t last = 0;
    if (v) {
        Reader rd(*v);
        last = rd.u64();
        if (!rd.ok()) return Error(Errc::DataLoss, "snapshot id sequence is corrupt");
    }
    std::string out;
    put_u64(out, last + 1);
    GANTRY_TRY(tx.put(kSeqKey, out));
    return last + 1;
}

// Ids of `parent` and its ancestors, nearest first.
Result<std::vector<std::uint64_t>> parent_chain(const metadata::Txn& tx, const Record& parent) {
    std::vector<std::uint64_t> ids{parent.id};
    std::string next = parent.info.parent;
    while (!next.empty()) {
        GANTRY_ASSIGN_OR_RETURN(auto r, find(tx, next));
        if (!r) return not_found("missing parent \"" + next + "\" in snapshot chain");
        ids.push_back(r->id);
        next = r->info.parent;
        if (ids.size() > 100000) return Error(Errc::DataLoss, "snapshot parent chain has a cycle");
    }
    return ids;
}

Result<bool> has_children(const metadata::Txn& tx, std::uint64_t id) {
    auto prefix = parent_prefix(id);
    GANTRY_ASSIGN_OR_RETURN(auto cur, tx.cursor());
    GANTRY_ASSIGN_OR_RETURN(auto e, cur.seek(prefix));
    return e.has_value() && e->key.substr(0, prefix.size()) == prefix;
}

void set_labels(Labels& dst, const Labels& src) {
    dst.clear();
    for (const auto& [k, v] : src)
        if (!v.empty()) dst.emplace(k, v);
}

} // namespace

Result<std::shared_ptr<MetaStore>> MetaStore::open(const std::filesystem::path& root) {
    auto dir = root / "metadata.lmdb";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return from_errno(ec.value(), "create " + dir.string());
    metadata::EnvOptions opts;
    opts.map_size = std::size_t{1} << 30; // a record is ~100 bytes: a million snapshots fit
    GANTRY_ASSIGN_OR_RETURN(auto env, metadata::Env::open(dir, opts));
    return std::shared_ptr<MetaStore>(new MetaStore(std::move(env)));
}

Result<Snapshot> create(metadata::WriteTxn& tx, Kind kind, std::string_view key,
                        std::string_view parent, const Labels& labels) {
    if (kind != Kind::active && kind != Kind::view)
        return invalid_argument("only active and view snapshots can be created");
    GANTRY_TRY(check_key(key, "snapshot key"));
    Snapshot s;
    s.kind = kind;
    if (!parent.empty()) {
        GANTRY_ASSIGN_OR_RETURN(auto p, find(tx, parent));
        if (!p) return not_found("parent snapshot " + std::string(parent) + " does not exist");
        if (p->info.kind != Kind::committed)
            return invalid_argument("parent " + std::string(parent) +
                                    " is not a committed snapshot");
        GANTRY_ASSIGN_OR_RETURN(s.parent_ids, parent_chain(tx, *p));
    }
    GANTRY_ASSIGN_OR_RETURN(auto existing, find(tx, key));
    if (existing) return already_exists("snapshot " + std::string(key));
    GANTRY_ASSIGN_OR_RETURN(s.id, next_id(tx));
    Record r;
    r.id = s.id;
    r.info.name = std::string(key);
    r.info.parent = std::string(parent);
    r.info.kind = kind;
    r.info.created_at = r.info.updated_at = now();
    set_labels(r.info.labels, labels);
    GANTRY_TRY(put(tx, r));
    if (!s.parent_ids.empty()) GANTRY_TRY(tx.put(parent_link(s.parent_ids.front(), s.id), key));
    return s;
}

Result<Snapshot> get_active(const metadata::Txn& tx, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto r, must_find(tx, key));
    if (r.info.kind != Kind::active && r.info.kind != Kind::view)
        return failed_precondition("snapshot " + std::string(key) + " is not active or view");
    Snapshot s{r.id, r.info.kind, {}};
    if (!r.info.parent.empty()) {
        GANTRY_ASSIGN_OR_RETURN(auto p, must_find(tx, r.info.parent));
        GANTRY_ASSIGN_OR_RETURN(s.parent_ids, parent_chain(tx, p));
    }
    return s;
}

Result<Record> get_info(const metadata::Txn& tx, std::string_view key) {
    return must_find(tx, key);
}

Result<Info> update_info(metadata::WriteTxn& tx, const Info& info,
                         std::span<const std::string> paths) {
    GANTRY_ASSIGN_OR_RETURN(auto r, must_find(tx, info.name));
    if (paths.empty()) {
        set_labels(r.info.labels, info.labels);
    } else {
        for (const auto& path : paths) {
            if (path == "labels") {
                set_labels(r.info.labels, info.labels);
            } else if (path.starts_with("labels.")) {
                auto k = path.substr(7);
                auto it = info.labels.find(k);
                if (it == info.labels.end() || it->second.empty())
                    r.info.labels.erase(k);
                else
                    r.info.labels[k] = it->second;
            } else {
                return invalid_argument("cannot update \"" + path + "\" field on snapshot \"" +
                                        info.name + "\"");
            }
        }
    }
    r.info.updated_at = now();
    GANTRY_TRY(put(tx, r));
    return r.info;
}

Result<std::uint64_t> commit_active(metadata::WriteTxn& tx, std::string_view key,
                                    std::string_view name, const Usage& usage,
                                    const Labels& labels) {
    GANTRY_TRY(check_key(name, "snapshot name"));
    GANTRY_ASSIGN_OR_RETURN(auto taken, find(tx, name));
    if (taken) return already_exists("committed snapshot " + std::string(name));
    GANTRY_ASSIGN_OR_RETURN(auto r, find(tx, key));
    if (!r) return not_found("active snapshot " + std::string(key) + " does not exist");
    if (r->info.kind != Kind::active)
        return failed_precondition("snapshot " + std::string(key) + " is not active");
    Record c = std::move(*r);
    c.info.name = std::string(name);
    c.info.kind = Kind::committed;
    c.info.created_at = c.info.updated_at = now();
    set_labels(c.info.labels, labels); // replaced, not inherited
    c.usage = usage;
    GANTRY_TRY(tx.del(snap_key(key)));
    GANTRY_TRY(put(tx, c));
    if (!c.info.parent.empty()) {
        GANTRY_ASSIGN_OR_RETURN(auto p, must_find(tx, c.info.parent));
        GANTRY_TRY(tx.put(parent_link(p.id, c.id), name));
    }
    return c.id;
}

Result<Removed> remove(metadata::WriteTxn& tx, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto r, must_find(tx, key));
    GANTRY_ASSIGN_OR_RETURN(bool kids, has_children(tx, r.id));
    if (kids) return failed_precondition("cannot remove snapshot with child");
    if (!r.info.parent.empty()) {
        GANTRY_ASSIGN_OR_RETURN(auto p, find(tx, r.info.parent));
        if (p) GANTRY_TRY(tx.del(parent_link(p->id, r.id)));
    }
    GANTRY_TRY(tx.del(snap_key(key)));
    return Removed{r.id, r.info.kind};
}

Status walk(const metadata::Txn& tx, const filters::Filter* filter, const WalkFn& fn) {
    std::vector<Info> infos;
    {
        GANTRY_ASSIGN_OR_RETURN(auto cur, tx.cursor());
        GANTRY_ASSIGN_OR_RETURN(auto e, cur.seek(kSnapPrefix));
        while (e && e->key.starts_with(kSnapPrefix)) {
            GANTRY_ASSIGN_OR_RETURN(auto r, decode(e->key.substr(kSnapPrefix.size()), e->value));
            if (matches(filter, r.info)) infos.push_back(std::move(r.info));
            GANTRY_ASSIGN_OR_RETURN(e, cur.next());
        }
    }
    for (const auto& info : infos)
        GANTRY_TRY(fn(info));
    return ok_status();
}

Result<std::map<std::uint64_t, std::string>> id_map(const metadata::Txn& tx) {
    std::map<std::uint64_t, std::string> ids;
    GANTRY_ASSIGN_OR_RETURN(auto cur, tx.cursor());
    GANTRY_ASSIGN_OR_RETURN(auto e, cur.seek(kSnapPrefix));
    while (e && e->key.starts_with(kSnapPrefix)) {
        auto key = e->key.substr(kSnapPrefix.size());
        GANTRY_ASSIGN_OR_RETURN(auto r, decode(key, e->value));
        ids.emplace(r.id, std::string(key));
        GANTRY_ASSIGN_OR_RETURN(e, cur.next());
    }
    return ids;
}

Result<std::vector<std::string>> children(const metadata::Txn& tx, std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto r, must_find(tx, key));
    auto prefix = parent_prefix(r.id);
    std::vector<std::string> out;
    GANTRY_ASSIGN_OR_RETURN(auto cur, tx.cursor());
    GANTRY_ASSIGN_OR_RETURN(auto e, cur.seek(prefix));
    while (e && e->key.starts_with(prefix)) {
        out.emplace_back(e->value);
        GANTRY_ASSIGN_OR_RETURN(e, cur.next());
    }
    return out;
}

std::string_view kind_name(Kind k) noexcept {
    switch (k) {
    case Kind::active:
        return "active";
    case Kind::view:
        return "view";
    case Kind::committed:
        return "committed";
    default:
        return "unknown";
    }
}

bool matches(const filters::Filter* filter, const Info& info) {
    if (filter == nullptr) return true;
    filters::FieldsAdaptor a;
    auto kind = kind_name(info.kind);
    a.add("kind", kind)
        .add("name", info.name, filters::Presence::always)
        .add("parent", info.parent, filters::Presence::always)
        .add_map("labels", info.labels);
    return filter->match(a);
}

} // namespace gantry::snapshots::storage
