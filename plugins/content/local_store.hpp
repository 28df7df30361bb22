// The local content store: containerd's on-disk layout under one root (protocol-facts.md §7.1).
//
//   <root>/blobs/<alg>/<hex>          committed blobs, mode 0444, mtime = commit time
//   <root>/ingest/<sha256(bref)>/     one directory per ingest:
//        ref        the backend ref
//        data       the bytes so far
//        startedat  RFC 3339 with nanoseconds (temp file + rename)
//        updatedat  same
//        total      decimal, only when the total is known
//
// Crash safety: a blob appears only by rename(2) of a fully written, fsynced data file whose
// digest was checked, followed by an fsync of the blob directory; so after a crash a blob is
// either absent or whole. An interrupted ingest stays in ingest/ and is resumed (its data
// re-hashed) by the next writer of the same ref, or removed by Abort or garbage collection.
//
// Writers hash with sha256 (containerd's canonical algorithm); blobs named by sha384 or sha512
// digests are read, listed and deleted like any other.
#pragma once

#include "core/content/store.hpp"
#include "core/gc/content_backend.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace gantry::content {

class LocalStore final : public Backend, public gc::ContentBackend {
public:
    // Creates <root>/blobs and <root>/ingest if missing.
    static Result<std::shared_ptr<LocalStore>> open(const std::string& root);

    const std::string& root() const noexcept { return root_; }

    // Backend
    Result<Info> info(std::string_view digest) override;
    Result<std::unique_ptr<ReaderAt>> reader(std::string_view digest) override;
    Result<std::unique_ptr<Writer>> writer(std::string_view bref, std::int64_t total,
                                           std::string_view expected) override;
    Result<IngestStatus> status(std::string_view bref) override;
    Status abort(std::string_view bref) override;

    // gc::ContentBackend
    Result<std::vector<std::string>> list_blobs() override;
    Status delete_blob(const std::string& digest) override;
    Result<std::vector<std::string>> list_ingests() override;
    Status abort_ingest(const std::string& backend_ref) override;

    // Paths, for tests and the writer.
    Result<std::string> blob_path(std::string_view digest) const;
    std::string ingest_path(std::string_view bref) const;

    // The in-process lock of one ref (held by a Writer). Unavailable after ~10 short retries.
    Status lock(const std::string& bref);
    void unlock(const std::string& bref);

private:
    explicit LocalStore(std::string root) : root_(std::move(root)) {}

    std::string root_;
    std::mutex locks_mu_;
    std::map<std::string, std::chrono::system_clock::time_point> locks_;
};

} // namespace gantry::content
