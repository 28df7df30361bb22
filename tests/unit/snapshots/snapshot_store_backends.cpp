// The backends the SnapshotStore suite runs over: the in-memory fake (with failure injection and
// cross-namespace sharing by snapshot.ref) and the real native snapshotter (needs root: it
// copies files with their owners).
#include "snapshot_store_test.hpp"
#include "snapshotters/native/native.hpp"

#include <unistd.h>

namespace gantry::snapshots::testing {

std::shared_ptr<Snapshotter> make_backend(BackendKind kind, const std::filesystem::path& dir) {
    switch (kind) {
    case BackendKind::fake:
        return std::make_shared<FakeSnapshotter>();
    case BackendKind::native: {
        if (::geteuid() != 0) return nullptr;
        auto sn = native::open(dir);
        return sn.ok() ? *sn : nullptr;
    }
    }
    return nullptr;
}

} // namespace gantry::snapshots::testing
