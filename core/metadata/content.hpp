// The namespaced content store (containerd's metadata/content.go): per-namespace records over the
// shared on-disk content::Backend.
//
// Records (schema.hpp):
//   v1/<ns>/content/blob/<digest>    createdat, updatedat, size, [labels]
//   v1/<ns>/content/ingests/<ref>    ref = backend ref "<ns>/<seq>/<ref>" (seq is the new
//                                    bucket's first sequence, 1); expireat = now + 24 h when the
//                                    request has no lease; expected = <digest> for the shared
//                                    shortcut
// and, under a lease, v1/<ns>/leases/<id>/{ingests/<ref>, content/<digest>}.
//
// Shared policy (protocol-facts §7.3, containerd's default): bytes are stored once. When a
// writer's expected digest is on disk but not in the namespace, no data is asked for: the writer
// reports offset = total = the blob's size and its commit only adds the namespace's record.
//
// Each call is one LMDB transaction; commit writes the blob record, removes the ingest record and
// moves the lease from ingest to blob in one transaction, after the backend has made the blob
// durable (so a crash leaves at worst a blob that no namespace references, for GC).
//
// Differences from containerd, on purpose: Abort of an ingest whose backend data is already gone
// removes the record instead of failing with NotFound (otherwise it could never be removed).
#pragma once

#include "core/content/store.hpp"
#include "core/metadata/database.hpp"

#include <memory>

namespace gantry::metadata {

class ContentStore final : public content::Store {
public:
    ContentStore(std::shared_ptr<Database> db, std::shared_ptr<content::Backend> backend)
        : db_(std::move(db)), backend_(std::move(backend)) {}

    Result<content::Info> info(std::string_view ns, std::string_view digest) override;
    Result<content::Info> update(std::string_view ns, const content::Info& info,
                                 std::span<const std::string> paths) override;
    Status walk(std::string_view ns, const filters::Filter& filter,
                const std::function<Status(const content::Info&)>& fn) override;
    Status remove(std::string_view ns, std::string_view digest) override;
    Result<std::unique_ptr<content::ReaderAt>> reader(std::string_view ns,
                                                      std::string_view digest) override;
    Result<content::IngestStatus> status(std::string_view ns, std::string_view ref) override;
    Result<std::vector<content::IngestStatus>>
    list_statuses(std::string_view ns, const filters::Filter& filter) override;
    Status abort(std::string_view ns, std::string_view ref, std::string_view lease) override;
    Result<std::unique_ptr<content::Writer>> writer(std::string_view ns, std::string_view lease,
                                                    std::string_view ref, std::int64_t total,
                                                    std::string_view expected) override;

private:
    std::shared_ptr<Database> db_;
    std::shared_ptr<content::Backend> backend_;
};

} // namespace gantry::metadata
