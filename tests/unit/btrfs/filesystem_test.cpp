// Which mount holds a path (the device the snapshotter's mounts name), and the btrfs check that
// decides whether the plugin runs or skips.
#include "snapshotters/btrfs/filesystem.hpp"
#include "snapshotters/btrfs/testing/loop_btrfs.hpp"

#include <filesystem>
#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
namespace bt = gantry::snapshots::btrfs;

const char* kMountinfo =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 22 0:25 / /var/lib rw,relatime shared:5 master:2 - xfs /dev/vdb rw\n"
    "31 30 0:40 / /var/lib/gantry rw - btrfs /dev/loop3 rw,space_cache=v2,subvolid=5\n"
    "32 22 0:41 / /mnt/a rw - tmpfs tmpfs rw\n"
    "33 22 0:42 / /mnt/with\\040space rw - btrfs /dev/sd\\134x rw\n"
    "34 30 0:43 / /var/lib/gantry rw - btrfs /dev/loop4 rw\n";

TEST(MountOf, TheInnermostMountWins) {
    auto m = bt::mount_of("/var/lib/gantry/io.containerd.snapshotter.v1.btrfs", kMountinfo);
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->fs_type, "btrfs");
    // Two mounts on the same point: the later one is on top.
    EXPECT_EQ(m->source, "/dev/loop4");
    EXPECT_EQ(m->mount_point, "/var/lib/gantry");

    auto var = bt::mount_of("/var/lib/other", kMountinfo);
    ASSERT_TRUE(var.ok());
    EXPECT_EQ(var->fs_type, "xfs"); // optional fields of any count are skipped
    EXPECT_EQ(var->source, "/dev/vdb");
}

TEST(MountOf, PrefixesCountOnlyWholeComponents) {
    auto m = bt::mount_of("/mnt/ab/c", kMountinfo);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->mount_point, "/");
    EXPECT_EQ(m->fs_type, "ext4");
}

TEST(MountOf, EscapedFieldsAreDecoded) {
    auto m = bt::mount_of("/mnt/with space/x", kMountinfo);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->mount_point, "/mnt/with space");
    EXPECT_EQ(m->source, "/dev/sd\\x");
}

TEST(MountOf, NoMountIsNotFound) {
    auto m = bt::mount_of("/x", "garbage line\n");
    ASSERT_FALSE(m.ok());
    EXPECT_TRUE(m.error().is(gantry::Errc::NotFound));
}

TEST(OnBtrfs, ALoopMountIsBtrfsAndItsMissingChildrenToo) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    auto yes = bt::on_btrfs(btrfs->mount_point());
    ASSERT_TRUE(yes.ok()) << yes.error().message();
    EXPECT_TRUE(*yes);
    // A root that does not exist yet is judged by its nearest existing ancestor.
    EXPECT_TRUE(*bt::on_btrfs(btrfs->mount_point() / "not" / "yet"));
    EXPECT_FALSE(fs::exists(btrfs->mount_point() / "not"));

    auto m = bt::mount_of(btrfs->mount_point() / "not" / "yet");
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->fs_type, "btrfs");
    EXPECT_EQ(m->source, btrfs->device());
}

TEST(OnBtrfs, TheProcFilesystemIsNot) {
    auto no = bt::on_btrfs("/proc/self");
    ASSERT_TRUE(no.ok());
    EXPECT_FALSE(*no);
}

} // namespace
