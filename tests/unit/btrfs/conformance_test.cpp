// The btrfs snapshotter runs the whole shared conformance suite, on a loop-device btrfs made
// once per test process (skipped, with the reason, where loop devices are unavailable).
#include "snapshotters/btrfs/btrfs_snapshotter.hpp"
#include "snapshotters/btrfs/testing/loop_btrfs.hpp"
#include "snapshotters/testsuite/testsuite.hpp"

namespace {

namespace fs = std::filesystem;
using namespace gantry;

Result<std::shared_ptr<snapshots::Snapshotter>> open_btrfs(const fs::path& root) {
    GANTRY_ASSIGN_OR_RETURN(auto sn, snapshots::btrfs::BtrfsSnapshotter::open(root));
    return std::shared_ptr<snapshots::Snapshotter>(std::move(sn));
}

// One filesystem for every case in this process; torn down at exit (and by the kernel's
// autoclear of the loop device if the process dies).
Result<fs::path> loop_btrfs() {
    static auto fs_or = snapshots::btrfs::testing::LoopBtrfs::create("/tmp", 1ull << 30);
    if (!fs_or.ok()) return fs_or.error();
    return (*fs_or)->mount_point();
}

} // namespace

GANTRY_SNAPSHOTTER_TESTSUITE_WITH_BASE(Btrfs, open_btrfs, loop_btrfs)
