#include "core/metadata/content.hpp"

#include "core/filters/adaptor.hpp"
#include "core/filters/filter.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/metadata/lease_resources.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/value_encoding.hpp"

#include <chrono>
#include <optional>
#include <vector>

namespace gantry::metadata {

namespace {

using content::Info;
using content::IngestStatus;

constexpr std::int64_t kCopyChunk = 1 << 20;

Timestamp now_ts() {
    return to_timestamp(std::chrono::system_clock::now());
}

BucketPath blob_bucket(std::string_view ns, std::string_view digest) {
    return schema::blobs_bucket(ns).child(digest);
}
BucketPath ingest_bucket(std::string_view ns, std::string_view ref) {
    return schema::ingests_bucket(ns).child(ref);
}

Error no_digest(std::string_view digest) {
    return not_found("content digest " + std::string(digest));
}
Error no_ref(std::string_view ref) {
    return not_found("reference " + std::string(ref));
}

Result<Info> read_info(const Txn& txn, const BucketPath& bkt, std::string_view digest) {
    Info info;
    info.digest = std::string(digest);
    GANTRY_ASSIGN_OR_RETURN(auto created, get_value(txn, bkt, schema::kCreatedAt));
    GANTRY_ASSIGN_OR_RETURN(auto updated, get_value(txn, bkt, schema::kUpdatedAt));
    GANTRY_ASSIGN_OR_RETURN(auto size, get_value(txn, bkt, schema::kSize));
    if (created) {
        GANTRY_ASSIGN_OR_RETURN(info.created_at, decode_time(*created));
    }
    if (updated) {
        GANTRY_ASSIGN_OR_RETURN(info.updated_at, decode_time(*updated));
    }
    if (size && !size->empty()) {
        GANTRY_ASSIGN_OR_RETURN(info.size, decode_varint(*size));
    }
    GANTRY_ASSIGN_OR_RETURN(info.labels, read_labels(txn, bkt));
    return info;
}

Status write_info(WriteTxn& txn, const BucketPath& bkt, const Info& info) {
    GANTRY_TRY(put_value(txn, bkt, schema::kCreatedAt, encode_time(info.created_at)));
    GANTRY_TRY(put_value(txn, bkt, schema::kUpdatedAt, encode_time(info.updated_at)));
    GANTRY_TRY(write_labels(txn, bkt, info.labels));
    return put_value(txn, bkt, schema::kSize, encode_varint(info.size));
}

Status validate_info_labels(const content::Labels& labels) {
    if (auto st = validate_labels(labels); !st.ok()) return st.error().wrap("info.Labels");
    return {};
}

// A writer in one namespace. Without a backend writer it is the shared shortcut: the expected
// blob is already on disk and only the namespace's record is missing.
class NamespacedWriter final : public content::Writer {
public:
    NamespacedWriter(std::shared_ptr<Database> db, std::shared_ptr<content::Backend> backend,
                     std::string ns, std::string lease, std::string ref, std::string bref,
                     std::unique_ptr<content::Writer> w, std::string shared_digest,
                     std::int64_t shared_size)
        : db_(std::move(db)), backend_(std::move(backend)), ns_(std::move(ns)),
          lease_(std::move(lease)), ref_(std::move(ref)), bref_(std::move(bref)), w_(std::move(w)),
          shared_digest_(std::move(shared_digest)), shared_size_(shared_size), started_(now_ts()) {}

    Result<IngestStatus> status() override {
        if (w_) {
            GANTRY_ASSIGN_OR_RETURN(IngestStatus st, w_->status());
            st.ref = ref_;
            return st;
        }
        IngestStatus st;
        st.ref = ref_;
        st.offset = st.total = shared_size_;
        st.started_at = st.updated_at = started_;
        st.expected = shared_digest_;
        return st;
    }

    std::string digest() override {
        if (!final_digest_.empty()) return final_digest_;
        return w_ ? w_->digest() : shared_digest_;
    }

    Status write(std::string_view data) override {
        if (!w_) GANTRY_TRY(open_backend(/*copy_existing=*/true));
        return w_->write(data);
    }

    Status truncate(std::int64_t size) override {
        if (!w_) {
            if (size != 0) return invalid_argument("truncate only supports size 0");
            return open_backend(/*copy_existing=*/false);
        }
        return w_->truncate(size);
    }

    Status commit(std::int64_t size, std::string_view expected,
                  const content::Labels& labels) override {
        GANTRY_TRY(validate_info_labels(labels));
        // The transaction commits even when the blob already exists (AlreadyExists below), so
        // the ingest record goes and the lease keeps the blob, as in containerd.
        auto result = db_->update([&](WriteTxn& txn) -> Result<std::optional<Error>> {
            std::optional<Error> exists;
            std::string actual;
            if (!w_) {
                if (size != 0 && size != shared_size_)
                    return failed_precondition(
                        "\"" + ref_ + "\" failed size validation: " + std::to_string(shared_size_) +
                        " != " + std::to_string(size));
                if (!expected.empty() && expected != shared_digest_)
                    return failed_precondition("\"" + ref_ + "\" unexpected digest");
                size = shared_size_;
                actual = shared_digest_;
            } else {
                GANTRY_ASSIGN_OR_RETURN(IngestStatus st, w_->status());
                if (size != 0 && size != st.offset)
                    return failed_precondition(
                        "\"" + ref_ + "\" failed size validation: " + std::to_string(st.offset) +
                        " != " + std::to_string(size));
                size = st.offset;
                actual = w_->digest();
                auto committed = w_->commit(size, expected, labels);
                if (!committed.ok() && !committed.error().is(Errc::AlreadyExists))
                    return std::move(committed).error();
            }
            final_digest_ = actual;
            BucketPath bkt = blob_bucket(ns_, actual);
            GANTRY_ASSIGN_OR_RETURN(bool created, ensure_bucket(txn, bkt));
            if (!created) {
                exists = already_exists("content " + actual);
            } else {
                Info info;
                info.digest = actual;
                info.size = size;
                info.created_at = info.updated_at = now_ts();
                info.labels = labels;
                GANTRY_TRY(write_info(txn, bkt, info));
            }
            GANTRY_ASSIGN_OR_RETURN(bool removed, delete_bucket(txn, ingest_bucket(ns_, ref_)));
            (void)removed;
            GANTRY_TRY(leases::remove_resource(txn, ns_, lease_, leases::kIngests, ref_));
            GANTRY_TRY(leases::add_resource(txn, ns_, lease_, leases::kContent, actual));
            return exists;
        });
        w_.reset(); // finished either way; releases the ref's lock
        if (!result.ok()) return std::move(result).error();
        if (result.value()) return std::move(*result.value());
        return {};
    }

private:
    // The shortcut cannot take data: switch to a real ingest, seeded with the blob's bytes when
    // the client appends to them.
    Status open_backend(bool copy_existing) {
        GANTRY_ASSIGN_OR_RETURN(w_, backend_->writer(bref_, 0, ""));
        GANTRY_TRY(w_->truncate(0));
        if (copy_existing && shared_size_ > 0) {
            GANTRY_ASSIGN_OR_RETURN(auto r, backend_->reader(shared_digest_));
            std::vector<char> buf(static_cast<std::size_t>(kCopyChunk));
            std::int64_t off = 0;
            while (off < r->size()) {
                GANTRY_ASSIGN_OR_RETURN(std::size_t n, r->read_at(off, buf));
                if (n == 0) break;
                GANTRY_TRY(w_->write(std::string_view(buf.data(), n)));
                off += static_cast<std::int64_t>(n);
            }
        }
        return {};
    }

    std::shared_ptr<Database> db_;
    std::shared_ptr<content::Backend> backend_;
    std::string ns_, lease_, ref_, bref_;
    std::unique_ptr<content::Writer> w_;
    std::string shared_digest_;
    std::int64_t shared_size_;
    std::string final_digest_;
    Timestamp started_;
};

} // namespace

Result<Info> ContentStore::info(std::string_view ns, std::string_view digest) {
    return db_->view([&](const Txn& txn) -> Result<Info> {
        BucketPath bkt = blob_bucket(ns, digest);
        GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, bkt));
        if (!exists) return no_digest(digest);
        return read_info(txn, bkt, digest);
    });
}

Result<Info> ContentStore::update(std::string_view ns, const Info& in,
                                  std::span<const std::string> paths) {
    return db_->update([&](WriteTxn& txn) -> Result<Info> {
        BucketPath bkt = blob_bucket(ns, in.digest);
        GANTRY_ASSIGN_OR_RETURN(bool exists, bucket_exists(txn, bkt));
        if (!exists) return no_digest(in.digest);
        GANTRY_ASSIGN_OR_RETURN(Info updated, read_info(txn, bkt, in.digest));
        if (!paths.empty()) {
            for (const auto& path : paths) {
                constexpr std::string_view kPrefix = "labels.";
                if (path.size() > kPrefix.size() && path.compare(0, kPrefix.size(), kPrefix) == 0) {
                    std::string key = path.substr(kPrefix.size());
                    auto it = in.labels.find(key);
                    if (it == in.labels.end() || it->second.empty())
                        updated.labels.erase(key);
                    else
                        updated.labels[key] = it->second;
                    continue;
                }
                if (path == "labels") {
                    updated.labels = in.labels;
                    continue;
                }
                return invalid_argument("cannot update \"" + path + "\" field on content info \"" +
                                        in.digest + "\"");
            }
        } else {
            updated.labels = in.labels;
        }
        for (auto it = updated.labels.begin(); it != updated.labels.end();)
            it = it->second.empty() ? updated.labels.erase(it) : std::next(it);
        GANTRY_TRY(validate_info_labels(updated.labels));
        updated.updated_at = now_ts();
        GANTRY_TRY(write_info(txn, bkt, updated));
        return updated;
    });
}

Status ContentStore::walk(std::string_view ns, const filters::Filter& filter,
                          const std::function<Status(const Info&)>& fn) {
    // Collected in one read transaction, then handed out without holding it.
    auto infos = db_->view([&](const Txn& txn) -> Result<std::vector<Info>> {
        std::vector<Info> out;
        GANTRY_ASSIGN_OR_RETURN(auto digests, list_buckets(txn, schema::blobs_bucket(ns)));
        for (const auto& d : digests) {
            GANTRY_ASSIGN_OR_RETURN(Info info, read_info(txn, blob_bucket(ns, d), d));
            filters::FieldsAdaptor a;
            a.add("digest", info.digest, filters::Presence::always);
            a.add_map("labels", info.labels);
            if (filter.match(a)) out.push_back(std::move(info));
        }
        return out;
    });
    if (!infos.ok()) return std::move(infos).error();
    for (const auto& info : *infos)
        GANTRY_TRY(fn(info));
    return {};
}

Status ContentStore::remove(std::string_view ns, std::string_view digest) {
    return db_->update([&](WriteTxn& txn) -> Status {
        GANTRY_ASSIGN_OR_RETURN(bool removed, delete_bucket(txn, blob_bucket(ns, digest)));
        if (!removed) return no_digest(digest);
        return {};
    });
}

Result<std::unique_ptr<content::ReaderAt>> ContentStore::reader(std::string_view ns,
                                                                std::string_view digest) {
    auto exists =
        db_->view([&](const Txn& txn) { return bucket_exists(txn, blob_bucket(ns, digest)); });
    if (!exists.ok()) return std::move(exists).error();
    if (!*exists) return no_digest(digest);
    return backend_->reader(digest);
}

Result<IngestStatus> ContentStore::status(std::string_view ns, std::string_view ref) {
    auto bref = db_->view([&](const Txn& txn) -> Result<std::string> {
        GANTRY_ASSIGN_OR_RETURN(auto v, get_value(txn, ingest_bucket(ns, ref), schema::kRef));
        if (!v || v->empty()) return no_ref(ref);
        return std::move(*v);
    });
    if (!bref.ok()) return std::move(bref).error();
    GANTRY_ASSIGN_OR_RETURN(IngestStatus st, backend_->status(*bref));
    st.ref = std::string(ref);
    return st;
}

Result<std::vector<IngestStatus>> ContentStore::list_statuses(std::string_view ns,
                                                              const filters::Filter& filter) {
    auto brefs =
        db_->view([&](const Txn& txn) -> Result<std::vector<std::pair<std::string, std::string>>> {
            std::vector<std::pair<std::string, std::string>> out;
            GANTRY_ASSIGN_OR_RETURN(auto refs, list_buckets(txn, schema::ingests_bucket(ns)));
            for (auto& r : refs) {
                GANTRY_ASSIGN_OR_RETURN(auto v, get_value(txn, ingest_bucket(ns, r), schema::kRef));
                out.emplace_back(std::move(r), v ? std::move(*v) : std::string());
            }
            return out;
        });
    if (!brefs.ok()) return std::move(brefs).error();
    std::vector<IngestStatus> out;
    for (const auto& [ref, bref] : *brefs) {
        if (bref.empty()) continue;
        auto st = backend_->status(bref);
        if (!st.ok()) {
            if (st.error().is(Errc::NotFound)) continue;
            return std::move(st).error();
        }
        st->ref = ref;
        filters::FieldsAdaptor a;
        a.add("ref", st->ref, filters::Presence::always);
        if (filter.match(a)) out.push_back(std::move(*st));
    }
    return out;
}

Status ContentStore::abort(std::string_view ns, std::string_view ref, std::string_view lease) {
    return db_->update([&](WriteTxn& txn) -> Status {
        BucketPath bkt = ingest_bucket(ns, ref);
        GANTRY_ASSIGN_OR_RETURN(auto bref, get_value(txn, bkt, schema::kRef));
        if (!bref || bref->empty()) return no_ref(ref);
        GANTRY_ASSIGN_OR_RETURN(auto expected, get_value(txn, bkt, schema::kExpected));
        std::string b = *bref;
        GANTRY_ASSIGN_OR_RETURN(bool removed, delete_bucket(txn, bkt));
        (void)removed;
        GANTRY_TRY(leases::remove_resource(txn, ns, lease, leases::kIngests, ref));
        if (!expected || expected->empty()) {
            auto st = backend_->abort(b);
            if (!st.ok() && !st.error().is(Errc::NotFound)) return st;
        }
        return {};
    });
}

Result<std::unique_ptr<content::Writer>>
ContentStore::writer(std::string_view ns, std::string_view lease, std::string_view ref,
                     std::int64_t total, std::string_view expected) {
    if (ref.empty()) return invalid_argument("ref must not be empty");
    if (!expected.empty()) GANTRY_TRY(validate_digest(expected));
    bool exists = false;
    std::unique_ptr<content::Writer> w;
    std::string bref;
    bool shared = false;
    std::int64_t shared_size = 0;
    auto st = db_->update([&](WriteTxn& txn) -> Status {
        if (!expected.empty()) {
            GANTRY_ASSIGN_OR_RETURN(bool have, bucket_exists(txn, blob_bucket(ns, expected)));
            if (have) {
                // Committed in this namespace: only the lease learns of it.
                GANTRY_TRY(leases::add_resource(txn, ns, lease, leases::kContent, expected));
                exists = true;
                return {};
            }
            auto on_disk = backend_->info(expected);
            if (on_disk.ok() && (total == 0 || total == on_disk->size)) {
                shared = true;
                shared_size = on_disk->size;
            }
        }
        GANTRY_TRY(ensure_namespace(txn, ns));
        BucketPath bkt = ingest_bucket(ns, ref);
        GANTRY_TRY(ensure_bucket(txn, bkt));
        GANTRY_TRY(leases::add_resource(txn, ns, lease, leases::kIngests, ref));
        GANTRY_ASSIGN_OR_RETURN(auto existing, get_value(txn, bkt, schema::kRef));
        if (existing && !existing->empty()) {
            bref = *existing;
        } else {
            bref = std::string(ns) + "/1/" + std::string(ref);
            GANTRY_TRY(put_value(txn, bkt, schema::kRef, bref));
        }
        if (lease.empty()) {
            Timestamp expire =
                to_timestamp(std::chrono::system_clock::now() + std::chrono::hours(24));
            GANTRY_TRY(put_value(txn, bkt, schema::kExpireAt, encode_time(expire)));
        }
        if (shared) return put_value(txn, bkt, schema::kExpected, expected);
        // The backend is not told the expected digest: the blob must be committed in this
        // namespace before it counts as present here.
        GANTRY_ASSIGN_OR_RETURN(w, backend_->writer(bref, total, ""));
        return {};
    });
    if (!st.ok()) return std::move(st).error();
    if (exists) return already_exists("content " + std::string(expected));
    return std::unique_ptr<content::Writer>(std::make_unique<NamespacedWriter>(
        db_, backend_, std::string(ns), std::string(lease), std::string(ref), bref, std::move(w),
        shared ? std::string(expected) : std::string(), shared_size));
}

} // namespace gantry::metadata
