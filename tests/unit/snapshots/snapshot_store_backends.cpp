// The backends the SnapshotStore suite runs over.
#include "snapshot_store_test.hpp"

namespace gantry::snapshots::testing {

std::shared_ptr<Snapshotter> make_backend(BackendKind kind, const std::filesystem::path&) {
    switch (kind) {
    case BackendKind::fake:
        return std::make_shared<FakeSnapshotter>();
    case BackendKind::native:
        return nullptr;
    }
    return nullptr;
}

} // namespace gantry::snapshots::testing
