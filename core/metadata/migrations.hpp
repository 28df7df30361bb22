// Schema versions of our LMDB layout and the ordered steps between them. Version 0 is an empty
// database; kSchemaVersion is what this build writes. (Our numbering is our own: containerd's
// bolt store is at its version 3, and our version 1 already maps that tree, see schema.hpp.)
//
// Adding a step: append it with the next version, raise kSchemaVersion, and give it a test that
// starts from a database at the previous version. A step may assume exactly that previous version.
#pragma once

#include "core/errors.hpp"
#include "core/metadata/lmdb.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace gantry::metadata {

inline constexpr std::int64_t kSchemaVersion = 1;

struct Migration {
    std::int64_t version; // the version the database is at after this step
    std::string_view summary;
    Status (*apply)(WriteTxn& txn);
};

// This build's steps, ordered by version; the last one's version is kSchemaVersion.
std::span<const Migration> migrations();

// v1/version, or 0 when the database has never been written.
Result<std::int64_t> read_schema_version(const Txn& txn);

// Runs, in order, every step of `steps` above the database's current version up to `target`,
// recording each new version in v1/version. A database at a version newer than the last step
// is refused with FailedPrecondition. Works inside the caller's transaction, so on any error the
// caller's abort leaves the database untouched. Returns whether any step ran.
Result<bool> migrate(WriteTxn& txn, std::span<const Migration> steps, std::int64_t target);
inline Result<bool> migrate(WriteTxn& txn) {
    return migrate(txn, migrations(), kSchemaVersion);
}

} // namespace gantry::metadata
