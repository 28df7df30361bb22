// The content store (protocol-facts.md §7): blobs addressed by digest, and ingests (writes in
// progress) addressed by a client-chosen ref.
//
// Two layers, as in containerd:
//  - Backend: the one on-disk store shared by every namespace (plugins/content, the local store
//    at <root>/io.containerd.content.v1.content). It knows nothing of namespaces or leases; its
//    ingest refs are the metadata's backend refs "<ns>/<seq>/<ref>".
//  - Store: what services use. Every call names a namespace; records (sizes, times, labels,
//    ingests, lease membership) live in the metadata database, the bytes in the Backend
//    (core/metadata/content.hpp). A blob is visible in a namespace only once committed there.
//
// Errors carry containerd's classes and messages: NotFound `content digest <d>` and
// `reference <ref>`, AlreadyExists `content <d>`, FailedPrecondition for a size or digest
// mismatch at commit, Unavailable `ref <bref> locked for <d> (since <t>)` for a ref another writer
// holds, InvalidArgument for a malformed digest, an empty ref or an oversized label.
#pragma once

#include "core/errors.hpp"
#include "core/metadata/value_encoding.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::filters {
class Filter;
}
namespace gantry::gc {
class ContentBackend;
}

namespace gantry::content {

using Labels = std::map<std::string, std::string>;
using Timestamp = metadata::Timestamp;

struct Info {
    std::string digest;
    std::int64_t size = 0;
    Timestamp created_at;
    Timestamp updated_at;
    Labels labels;
};

// An ingest's progress. `ref` is the caller's ref (the backend's own ref at the Backend layer).
struct IngestStatus {
    std::string ref;
    std::int64_t offset = 0;
    std::int64_t total = 0;
    Timestamp started_at;
    Timestamp updated_at;
    std::string expected; // set only by the shared-store shortcut (§7.3)
};

// Random access to one committed blob. Reads never allocate; the caller brings the buffer.
class ReaderAt {
public:
    virtual ~ReaderAt() = default;
    virtual std::int64_t size() const = 0;
    // Up to buf.size() bytes at `offset`; 0 at or past the end.
    virtual Result<std::size_t> read_at(std::int64_t offset, std::span<char> buf) = 0;
};

// One open ingest. It holds the ref's lock from open until it is destroyed, so one ref has at
// most one writer in the process. Bytes are appended; the data so far is hashed as it arrives.
class Writer {
public:
    virtual ~Writer() = default;
    virtual Result<IngestStatus> status() = 0;
    // "sha256:<hex>" of the bytes written so far.
    virtual std::string digest() = 0;
    virtual Status write(std::string_view data) = 0;
    // Only 0 is supported (containerd's rule): drops the data and restarts the ingest.
    virtual Status truncate(std::int64_t size) = 0;
    // Checks size (when > 0) and digest (when non-empty), then makes the bytes a blob. The
    // writer is finished afterwards, whatever the outcome. AlreadyExists when the blob was
    // already there: callers treat it as success (the ingest is gone either way).
    virtual Status commit(std::int64_t size, std::string_view expected, const Labels& labels) = 0;
};

// The shared on-disk store. Also a gc::ContentBackend (see LocalPlugin below).
class Backend {
public:
    virtual ~Backend() = default;
    // Size and commit time of a blob on disk; NotFound `content <d>`.
    virtual Result<Info> info(std::string_view digest) = 0;
    virtual Result<std::unique_ptr<ReaderAt>> reader(std::string_view digest) = 0;
    // Opens (or resumes) the ingest `bref`. AlreadyExists `content <expected>` when `expected`
    // is non-empty and already on disk. `total` > 0 is recorded; a different total than the one
    // recorded is an error.
    virtual Result<std::unique_ptr<Writer>> writer(std::string_view bref, std::int64_t total,
                                                   std::string_view expected) = 0;
    // NotFound when the ingest or its data is gone.
    virtual Result<IngestStatus> status(std::string_view bref) = 0;
    virtual Status abort(std::string_view bref) = 0;
};

// The namespaced store that services use (implemented over the metadata database by
// metadata::ContentStore). `lease` is the request's `containerd-lease` value, empty for none.
class Store {
public:
    virtual ~Store() = default;
    virtual Result<Info> info(std::string_view ns, std::string_view digest) = 0;
    // Mask paths: "labels" replaces all labels, "labels.<k>" sets or (with no value) deletes one;
    // no paths replaces the labels. Returns the stored info.
    virtual Result<Info> update(std::string_view ns, const Info& info,
                                std::span<const std::string> paths) = 0;
    // Calls fn for every blob of the namespace the filter matches (fields `digest`, `labels.<k>`).
    virtual Status walk(std::string_view ns, const filters::Filter& filter,
                        const std::function<Status(const Info&)>& fn) = 0;
    // Removes the namespace's record; the bytes go later, with garbage collection.
    virtual Status remove(std::string_view ns, std::string_view digest) = 0;
    virtual Result<std::unique_ptr<ReaderAt>> reader(std::string_view ns,
                                                     std::string_view digest) = 0;
    virtual Result<IngestStatus> status(std::string_view ns, std::string_view ref) = 0;
    // Filter field: `ref`.
    virtual Result<std::vector<IngestStatus>> list_statuses(std::string_view ns,
                                                            const filters::Filter& filter) = 0;
    // Removes the ingest record (NotFound `reference <ref>`), drops it from `lease` (may be
    // empty) and removes the backend ingest.
    virtual Status abort(std::string_view ns, std::string_view ref, std::string_view lease) = 0;
    // AlreadyExists `content <expected>` when `expected` is already committed in the namespace
    // (and then the blob is added to the lease). NotFound `lease does not exist` for a bad lease.
    virtual Result<std::unique_ptr<Writer>> writer(std::string_view ns, std::string_view lease,
                                                   std::string_view ref, std::int64_t total,
                                                   std::string_view expected) = 0;
};

// The instance of plugin io.containerd.content.v1 "content" (plugins/content): the namespaced
// store built over the metadata plugin's database, plus the on-disk backend for the garbage
// collector. Consumers: `ctx.get_as<content::LocalPlugin>(plugin::types::kContent)`.
struct LocalPlugin {
    std::shared_ptr<Store> store;
    std::shared_ptr<Backend> backend;
    std::shared_ptr<gc::ContentBackend> gc_backend;
};

} // namespace gantry::content
