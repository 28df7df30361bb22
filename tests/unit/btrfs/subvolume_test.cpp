// The subvolume ioctls on a real btrfs (a loop device; skipped where there is none).
#include "snapshotters/btrfs/subvolume.hpp"
#include "snapshotters/btrfs/testing/loop_btrfs.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace bt = gantry::snapshots::btrfs;

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write(const fs::path& p, const std::string& s) {
    std::ofstream(p) << s;
}

// errno of creating `p` (0 when it could be written).
int try_create(const fs::path& p) {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
}

TEST(Subvolume, CreateGivesAFreshSubvolumeWithItsOwnId) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto a = btrfs->mount_point() / "a";
    ASSERT_TRUE(bt::create_subvolume(a).ok());
    EXPECT_TRUE(*bt::is_subvolume(a));
    EXPECT_FALSE(*bt::is_read_only(a));
    auto top = bt::subvolume_id(btrfs->mount_point());
    auto id = bt::subvolume_id(a);
    ASSERT_TRUE(top.ok() && id.ok());
    EXPECT_EQ(*top, 5u); // the top-level tree
    EXPECT_GE(*id, 256u);
    // A directory inside a subvolume reports the subvolume's id.
    fs::create_directory(a / "d");
    EXPECT_EQ(*bt::subvolume_id(a / "d"), *id);
    EXPECT_FALSE(*bt::is_subvolume(a / "d"));

    auto again = bt::create_subvolume(a);
    ASSERT_FALSE(again.ok());
    EXPECT_TRUE(again.error().is(gantry::Errc::AlreadyExists)) << again.error().message();
}

TEST(Subvolume, ReadOnlySnapshotKeepsContentAndRefusesWrites) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto src = btrfs->mount_point() / "src";
    const auto snap = btrfs->mount_point() / "snap";
    ASSERT_TRUE(bt::create_subvolume(src).ok());
    write(src / "f", "one");
    ASSERT_TRUE(bt::snapshot_subvolume(src, snap, true).ok());
    EXPECT_EQ(slurp(snap / "f"), "one");
    EXPECT_TRUE(*bt::is_read_only(snap));
    EXPECT_EQ(try_create(snap / "g"), EROFS);
    EXPECT_NE(*bt::subvolume_id(snap), *bt::subvolume_id(src));
    // The source stays writable and independent.
    write(src / "f", "two");
    EXPECT_EQ(slurp(snap / "f"), "one");
}

TEST(Subvolume, WritableSnapshotIsIndependentOfItsSource) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto src = btrfs->mount_point() / "src";
    const auto snap = btrfs->mount_point() / "snap";
    ASSERT_TRUE(bt::create_subvolume(src).ok());
    write(src / "f", "base");
    ASSERT_TRUE(bt::snapshot_subvolume(src, snap, false).ok());
    EXPECT_FALSE(*bt::is_read_only(snap));
    write(snap / "f", "changed");
    write(snap / "new", "x");
    EXPECT_EQ(slurp(src / "f"), "base");
    EXPECT_FALSE(fs::exists(src / "new"));
}

TEST(Subvolume, ReadOnlySnapshotCanBeRenamedInItsDirectory) {
    // The snapshotter builds every subvolume under a temporary name and renames it into place.
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto src = btrfs->mount_point() / "src";
    ASSERT_TRUE(bt::create_subvolume(src).ok());
    ASSERT_TRUE(bt::snapshot_subvolume(src, btrfs->mount_point() / "new-1", true).ok());
    fs::rename(btrfs->mount_point() / "new-1", btrfs->mount_point() / "1");
    EXPECT_TRUE(*bt::is_subvolume(btrfs->mount_point() / "1"));
    EXPECT_TRUE(*bt::is_read_only(btrfs->mount_point() / "1"));
}

TEST(Subvolume, DeleteRemovesReadOnlyAndWritableSubvolumes) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto src = btrfs->mount_point() / "src";
    const auto ro = btrfs->mount_point() / "ro";
    ASSERT_TRUE(bt::create_subvolume(src).ok());
    write(src / "f", "data");
    ASSERT_TRUE(bt::snapshot_subvolume(src, ro, true).ok());
    ASSERT_TRUE(bt::delete_subvolume(ro).ok());
    EXPECT_FALSE(fs::exists(ro));
    ASSERT_TRUE(bt::delete_subvolume(src).ok());
    EXPECT_FALSE(fs::exists(src));
}

TEST(Subvolume, DeleteTakesNestedSubvolumesWithIt) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto top = btrfs->mount_point() / "top";
    ASSERT_TRUE(bt::create_subvolume(top).ok());
    fs::create_directories(top / "a" / "b");
    ASSERT_TRUE(bt::create_subvolume(top / "a" / "b" / "inner").ok());
    ASSERT_TRUE(bt::create_subvolume(top / "a" / "b" / "inner" / "innermost").ok());
    ASSERT_TRUE(bt::create_subvolume(top / "side").ok());
    write(top / "a" / "b" / "inner" / "f", "x");
    auto st = bt::delete_subvolume(top);
    ASSERT_TRUE(st.ok()) << st.error().message();
    EXPECT_FALSE(fs::exists(top));
}

TEST(Subvolume, DeleteNeverReachesThroughAMount) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto top = btrfs->mount_point() / "top";
    const auto other = btrfs->mount_point() / "other";
    ASSERT_TRUE(bt::create_subvolume(top).ok());
    ASSERT_TRUE(bt::create_subvolume(top / "nested").ok()); // forces the walk
    ASSERT_TRUE(bt::create_subvolume(other).ok());
    write(other / "precious", "keep");
    fs::create_directory(top / "m");
    const std::string opts = "subvolid=" + std::to_string(*bt::subvolume_id(other));
    ASSERT_EQ(::mount(btrfs->device().c_str(), (top / "m").c_str(), "btrfs", 0, opts.c_str()), 0)
        << std::strerror(errno);
    auto st = bt::delete_subvolume(top);
    ::umount2((top / "m").c_str(), MNT_DETACH);
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(st.error().is(gantry::Errc::FailedPrecondition)) << st.error().message();
    EXPECT_EQ(slurp(other / "precious"), "keep");
    EXPECT_TRUE(*bt::is_subvolume(other));
}

TEST(Subvolume, DeleteRefusesWhatIsNotASubvolume) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const auto dir = btrfs->mount_point() / "plain";
    fs::create_directory(dir);
    auto st = bt::delete_subvolume(dir);
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(st.error().is(gantry::Errc::InvalidArgument)) << st.error().message();
    EXPECT_TRUE(fs::exists(dir));

    auto missing = bt::delete_subvolume(btrfs->mount_point() / "missing");
    ASSERT_FALSE(missing.ok());
    EXPECT_TRUE(missing.error().is(gantry::Errc::NotFound)) << missing.error().message();
}

TEST(Subvolume, ParentThroughASymlinkIsRefused) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    fs::create_directory(btrfs->mount_point() / "real");
    fs::create_directory_symlink(btrfs->mount_point() / "real", btrfs->mount_point() / "link");
    EXPECT_FALSE(bt::create_subvolume(btrfs->mount_point() / "link" / "s").ok());
    EXPECT_FALSE(fs::exists(btrfs->mount_point() / "real" / "s"));
}

TEST(Subvolume, OutsideBtrfsIsAClearError) {
    char tmpl[] = "/tmp/gbtrfs-not-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const fs::path dir = tmpl;
    auto id = bt::subvolume_id(dir);
    auto created = bt::create_subvolume(dir / "s");
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (id.ok()) GTEST_SKIP() << "/tmp is itself on btrfs";
    EXPECT_TRUE(id.error().is(gantry::Errc::InvalidArgument)) << id.error().message();
    EXPECT_NE(id.error().message().find("not on btrfs"), std::string::npos);
    ASSERT_FALSE(created.ok());
    EXPECT_NE(created.error().message().find("not on btrfs"), std::string::npos);
}

TEST(LoopBtrfs, TeardownUnmountsAndDetaches) {
    std::string device;
    fs::path mp;
    {
        GANTRY_BTRFS_OR_SKIP(btrfs);
        device = btrfs->device();
        mp = btrfs->mount_point();
        write(mp / "f", "x");
        EXPECT_TRUE(fs::exists(mp / "f"));
    }
    EXPECT_FALSE(fs::exists(mp.parent_path())) << mp;
    std::ifstream mounts("/proc/self/mountinfo");
    std::string all{std::istreambuf_iterator<char>(mounts), {}};
    EXPECT_EQ(all.find(mp.string()), std::string::npos);
    // Autoclear detaches the loop device once the mount is gone (asynchronously: allow a moment).
    const auto backing =
        "/sys/block/" + fs::path(device).filename().string() + "/loop/backing_file";
    for (int i = 0; i < 50 && fs::exists(backing); ++i)
        ::usleep(20000);
    EXPECT_FALSE(fs::exists(backing)) << device << " is still attached";
}

} // namespace

namespace {

TEST(LoopBtrfs, AKilledOwnersFilesystemIsSweptByTheNextOne) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        auto r = bt::testing::LoopBtrfs::create();
        std::string msg =
            r.ok() ? (*r)->mount_point().string() + "\n" + (*r)->device()
                   : "!" +
                         std::string(r.error().is(gantry::Errc::Unavailable) ? "unavailable: "
                                                                             : "error: ") +
                         r.error().message();
        (void)!::write(fds[1], msg.data(), msg.size());
        ::close(fds[1]);
        ::pause(); // killed here, destructors never run
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        msg.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    if (msg.starts_with("!unavailable")) GTEST_SKIP() << msg;
    ASSERT_FALSE(msg.starts_with("!")) << msg;
    const fs::path mp = msg.substr(0, msg.find('\n'));
    const std::string device = msg.substr(msg.find('\n') + 1);
    ASSERT_TRUE(fs::exists(mp)) << "the killed owner's mount is still there";

    GANTRY_BTRFS_OR_SKIP(next);
    EXPECT_FALSE(fs::exists(mp.parent_path())) << mp;
    std::ifstream mounts("/proc/self/mountinfo");
    std::string all{std::istreambuf_iterator<char>(mounts), {}};
    EXPECT_EQ(all.find(mp.string()), std::string::npos);
    const auto backing =
        "/sys/block/" + fs::path(device).filename().string() + "/loop/backing_file";
    for (int i = 0; i < 50 && fs::exists(backing) && device != next->device(); ++i)
        ::usleep(20000);
    if (device != next->device()) EXPECT_FALSE(fs::exists(backing)) << device;
}

} // namespace
