// containerd's garbage collection (protocol-facts.md §6.1, §6.2): one mark-and-sweep pass over
// every namespace of the metadata database, then removal of the content store's unused blobs and
// ingests on disk, and of backend snapshots that no snapshot record names.
//
// How concurrent writers are kept safe:
// - Mark and the metadata sweep run in ONE LMDB write transaction. LMDB admits one writer, so no
//   record can appear or disappear between marking and sweeping: a writer that commits before us
//   is seen by the mark, a writer that commits after us finds the state we left.
// - The disk sweep then runs while holding a second write transaction (used only as the lock
//   that excludes every metadata writer; it writes nothing and is aborted). Under it we read the
//   blob and ingest records of all namespaces, list the disk and remove what no record names.
//   This is safe as long as the content store follows one rule (the content plugin does):
//     a blob is moved into place (or found already present) INSIDE the write transaction that
//     records it, and a backend ingest is created inside or after the transaction that records
//     its ingest.
//   Then a blob on disk that no record names while we hold the lock belongs to nobody: its
//   writer either failed or crashed, or has not begun its transaction yet, and will check for
//   the blob inside that transaction (after our removal) and move its own data into place.
// - ContentBackend calls made during the disk sweep must not begin a metadata write transaction
//   (this thread already holds the writer lock).
// - Snapshots: unmarked records are deleted in the metadata transaction (and their links in a
//   surviving parent's children). Then, for each snapshotter that is dirty (records removed by
//   this pass or by Remove since the last one), with that store's gc_lock held exclusively (so
//   no Prepare is between its backend call and its record, metadata/snapshots.hpp): every
//   backend snapshot no record of any namespace names is removed, leaves first, tolerating
//   FailedPrecondition (a child still there) and NotFound; then the backend's cleanup() runs
//   (NotImplemented is fine), which is when overlayfs deletes the directories.
#pragma once

#include "core/errors.hpp"
#include "core/gc/content_backend.hpp"
#include "core/metadata/database.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

namespace gantry::snapshots {
class Snapshotter;
}

namespace gantry::gc {

inline constexpr std::string_view kRootLabel = "containerd.io/gc.root";
inline constexpr std::string_view kContentRefPrefix = "containerd.io/gc.ref.content";
inline constexpr std::string_view kSnapshotRefPrefix = "containerd.io/gc.ref.snapshot.";

struct Stats {
    // Records deleted from the metadata database.
    std::size_t leases = 0;
    std::size_t ingests = 0;
    std::size_t blobs = 0;
    std::size_t snapshots = 0;
    // Objects removed from the content store on disk.
    std::size_t disk_blobs = 0;
    std::size_t disk_ingests = 0;
    // Backend snapshots removed, and snapshotters whose cleanup() ran.
    std::size_t backend_snapshots = 0;
    std::size_t snapshotters_cleaned = 0;
    std::chrono::nanoseconds metadata_duration{0};
    std::chrono::nanoseconds total_duration{0};

    std::size_t removed() const {
        return leases + ingests + blobs + snapshots + disk_blobs + disk_ingests + backend_snapshots;
    }
};

// Go's time.Parse(time.RFC3339, s): "2006-01-02T15:04:05[.frac](Z|+hh:mm|-hh:mm)". nullopt when
// the text does not parse (containerd then ignores the label).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);
// The same instant formatted as RFC 3339 in UTC, without fraction ("2026-01-02T03:04:05Z").
std::string format_rfc3339(std::chrono::system_clock::time_point t);

// A snapshotter as the collector sees it: its name (the bucket under v1/<ns>/snapshots), the
// backend, and the lock its metadata store holds shared around every operation.
struct SnapshotBackend {
    std::string name;
    std::shared_ptr<snapshots::Snapshotter> snapshotter;
    std::shared_mutex* lock = nullptr; // may be null when nothing else uses the backend
    // Sweep its backend even if this pass deletes none of its records.
    bool dirty = false;
};

// One full pass. `backend` may be null: then only metadata is collected. `now` decides which
// leases and ingests have expired.
Result<Stats> collect(metadata::Database& db, ContentBackend* backend,
                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
// The same, also sweeping `snapshotters` (see above).
Result<Stats> collect(metadata::Database& db, ContentBackend* backend,
                      std::span<const SnapshotBackend> snapshotters,
                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

} // namespace gantry::gc
