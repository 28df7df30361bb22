// The btrfs snapshotter as the real `ctr` sees it: skipped (with its reason) on a root that is
// not btrfs, loaded on one that is (a loop-device btrfs mounted at the daemon's root).
#include "snapshotters/btrfs/testing/loop_btrfs.hpp"
#include "tests/integration/harness.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/vfs.h>

namespace gantry::itest {
namespace {

namespace fs = std::filesystem;

// The `ctr plugins ls` row of the btrfs snapshotter, split into columns.
std::vector<std::string> btrfs_row(const std::string& table) {
    std::istringstream in(table);
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::vector<std::string> cols;
        for (std::string w; ls >> w;)
            cols.push_back(w);
        if (cols.size() >= 4 && cols[0] == "io.containerd.snapshotter.v1" && cols[1] == "btrfs")
            return cols;
    }
    return {};
}

TEST(Btrfs, SkippedWithItsReasonWhenTheRootIsNotBtrfs) {
    Daemon d;
    ASSERT_GT(d.pid(), 0) << d.log();
    struct statfs st {};
    ASSERT_EQ(::statfs(d.root().c_str(), &st), 0);
    if (st.f_type == static_cast<decltype(st.f_type)>(BTRFS_SUPER_MAGIC))
        GTEST_SKIP() << "the temp root is itself on btrfs";
    auto ls = d.ctr({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto row = btrfs_row(ls.out);
    ASSERT_FALSE(row.empty()) << ls.out;
    EXPECT_EQ(row.back(), "skip") << ls.out;

    // The reason travels through introspection's init_err.
    auto detail = d.ctr({"plugins", "ls", "-d", "id==btrfs"});
    ASSERT_EQ(detail.exit_code, 0) << detail.err;
    const std::string root = d.root() + "/io.containerd.snapshotter.v1.btrfs";
    EXPECT_TRUE(contains(detail.out, root)) << detail.out;
    EXPECT_TRUE(contains(detail.out, "is not on a btrfs filesystem")) << detail.out;
    EXPECT_TRUE(contains(detail.out, "skip plugin")) << detail.out;
    // Skipping leaves nothing behind.
    EXPECT_FALSE(fs::exists(root));
    EXPECT_TRUE(contains(d.log(), "is not on a btrfs filesystem")) << d.log();
}

TEST(Btrfs, LoadedWhenTheRootIsOnBtrfs) {
    GANTRY_BTRFS_OR_SKIP(btrfs);
    // Declared after the filesystem, so the daemon stops (and its temp dir unmounts the bind
    // mount below) before the filesystem is torn down.
    Daemon d(Daemon::Options{.start_now = false});
    fs::create_directories(d.root());
    ASSERT_EQ(::mount(btrfs->mount_point().c_str(), d.root().c_str(), nullptr, MS_BIND, nullptr), 0)
        << std::strerror(errno);
    ASSERT_TRUE(d.start()) << d.log();

    auto ls = d.ctr({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto row = btrfs_row(ls.out);
    ASSERT_FALSE(row.empty()) << ls.out;
    EXPECT_EQ(row.back(), "ok") << ls.out << d.log();
    EXPECT_EQ(row[2], "linux/amd64") << ls.out;

    auto detail = d.ctr({"plugins", "ls", "-d", "id==btrfs"});
    ASSERT_EQ(detail.exit_code, 0) << detail.err;
    const std::string root = d.root() + "/io.containerd.snapshotter.v1.btrfs";
    EXPECT_TRUE(contains(detail.out, root)) << detail.out; // exports: root
    EXPECT_FALSE(contains(detail.out, "skip plugin")) << detail.out;
    // The layout is made on the btrfs filesystem.
    for (const char* sub : {"active", "view", "snapshots"})
        EXPECT_TRUE(
            fs::is_directory(btrfs->mount_point() / "io.containerd.snapshotter.v1.btrfs" / sub))
            << sub;

    // A restart on the same root loads it again.
    ASSERT_EQ(d.stop(), 0) << d.log();
    ASSERT_TRUE(d.start()) << d.log();
    auto again = d.ctr({"plugins", "ls"});
    EXPECT_EQ(btrfs_row(again.out).back(), "ok") << again.out;
}

TEST(Btrfs, RootPathMovesItOntoBtrfs) {
    // containerd's `root_path`: the daemon's root stays where it is, the snapshotter's goes to
    // a btrfs directory.
    GANTRY_BTRFS_OR_SKIP(btrfs);
    const std::string where = (btrfs->mount_point() / "snaps").string();
    Daemon d(Daemon::Options{.config_text = "version = 2\n[plugins.\"io.containerd.snapshotter.v1."
                                            "btrfs\"]\n  root_path = \"" +
                                            where + "\"\n"});
    ASSERT_GT(d.pid(), 0) << d.log();
    auto ls = d.ctr({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto row = btrfs_row(ls.out);
    ASSERT_FALSE(row.empty()) << ls.out;
    EXPECT_EQ(row.back(), "ok") << ls.out << d.log();
    auto detail = d.ctr({"plugins", "ls", "-d", "id==btrfs"});
    EXPECT_TRUE(contains(detail.out, where)) << detail.out;
    EXPECT_TRUE(fs::is_directory(fs::path(where) / "snapshots"));
    EXPECT_EQ(fs::status(where).permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_EQ(d.stop(), 0) << d.log();
}

} // namespace
} // namespace gantry::itest
