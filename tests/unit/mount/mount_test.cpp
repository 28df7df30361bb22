// Real mounts: each test works in a fresh directory under /var/tmp (ext4 here, so overlay can
// use it) and unmounts everything below it when it ends, even after a failed assertion.
#include "core/mount/mount.hpp"

#include <cerrno>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace gantry::mount {
namespace {

namespace stdfs = std::filesystem;

class MountTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root for real mounts";
        std::string pattern = "/var/tmp/gantry-mount-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }
    void TearDown() override {
        if (root_.empty()) return;
        if (auto mps = mount_points_under(root_); mps.ok())
            for (const auto& mp : *mps)
                ::umount2(mp.c_str(), MNT_DETACH);
        std::error_code ec;
        stdfs::remove_all(root_, ec);
    }

    stdfs::path dir(const std::string& name) {
        auto p = root_ / name;
        stdfs::create_directories(p);
        return p;
    }
    static void write(const stdfs::path& p, const std::string& s) { std::ofstream(p) << s; }
    static std::string read(const stdfs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    static bool is_mount_point(const stdfs::path& p) {
        auto mps = mount_points_under(p);
        if (!mps.ok()) return false;
        for (const auto& mp : *mps)
            if (mp == p) return true;
        return false;
    }

    stdfs::path root_;
};

TEST_F(MountTest, TmpfsMountsAndUnmounts) {
    auto target = dir("t");
    ASSERT_TRUE(mount({"tmpfs", "tmpfs", "", {"size=1m", "mode=0700"}}, target).ok());
    EXPECT_TRUE(is_mount_point(target));
    struct stat st {};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    write(target / "f", "x");
    ASSERT_TRUE(unmount(target).ok());
    EXPECT_FALSE(is_mount_point(target));
    EXPECT_FALSE(stdfs::exists(target / "f"));
}

TEST_F(MountTest, UnmountOfPlainDirectoryIsSuccess) {
    auto target = dir("plain");
    EXPECT_TRUE(unmount(target).ok());
    EXPECT_TRUE(unmount_all(target).ok());
}

TEST_F(MountTest, UnmountAllRemovesStackedMounts) {
    auto target = dir("stack");
    ASSERT_TRUE(mount({"tmpfs", "tmpfs", "", {}}, target).ok());
    ASSERT_TRUE(mount({"tmpfs", "tmpfs", "", {}}, target).ok());
    ASSERT_TRUE(unmount_all(target).ok());
    EXPECT_FALSE(is_mount_point(target));
}

TEST_F(MountTest, UnknownFilesystemIsAnError) {
    auto target = dir("bad");
    auto st = mount({"no-such-fs", "none", "", {}}, target);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find("no-such-fs"), std::string::npos);
}

TEST_F(MountTest, BindReadOnlyIsReallyReadOnly) {
    auto src = dir("src");
    write(src / "f", "hello");
    auto target = dir("ro");
    ASSERT_TRUE(mount({"bind", src.string(), "", {"ro", "rbind"}}, target).ok());
    EXPECT_EQ(read(target / "f"), "hello");
    int fd = ::open((target / "g").c_str(), O_CREAT | O_WRONLY, 0644);
    int err = errno;
    if (fd >= 0) ::close(fd);
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(err, EROFS);
    // The source stays writable.
    write(src / "g", "ok");
    EXPECT_EQ(read(target / "g"), "ok");
    ASSERT_TRUE(unmount(target).ok());
}

TEST_F(MountTest, RbindReadOnlyCoversSubmounts) {
    auto src = dir("src");
    auto sub = dir("src/sub");
    ASSERT_TRUE(mount({"tmpfs", "tmpfs", "", {}}, sub).ok());
    auto target = dir("ro");
    ASSERT_TRUE(mount({"bind", src.string(), "", {"ro", "rbind"}}, target).ok());
    int fd = ::open((target / "sub" / "g").c_str(), O_CREAT | O_WRONLY, 0644);
    int err = errno;
    if (fd >= 0) ::close(fd);
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(err, EROFS);
    ASSERT_TRUE(unmount_all(target / "sub").ok());
    ASSERT_TRUE(unmount_all(target).ok());
}

TEST_F(MountTest, BindReadWrite) {
    auto src = dir("src");
    auto target = dir("rw");
    ASSERT_TRUE(mount({"bind", src.string(), "", {"rw", "rbind"}}, target).ok());
    write(target / "f", "w");
    EXPECT_EQ(read(src / "f"), "w");
    ASSERT_TRUE(unmount(target).ok());
}

TEST_F(MountTest, OverlayWithManyLongLowerDirs) {
    // 150 layers with ~120-byte paths: far beyond one page of mount(2) data.
    constexpr int kLayers = 150;
    std::string longname(100, 'l');
    std::vector<std::string> lowers;
    for (int i = 0; i < kLayers; ++i) {
        auto d = dir("layers/" + longname + "-" + std::to_string(i));
        write(d / ("only-" + std::to_string(i)), std::to_string(i));
        write(d / "shadowed", std::to_string(i));
        lowers.push_back(d.string());
    }
    // lowerdir lists the top (nearest) layer first: layer 0 wins for "shadowed".
    std::string joined;
    for (const auto& l : lowers)
        joined += (joined.empty() ? "" : ":") + l;
    ASSERT_GT(joined.size(), 4096u);
    auto upper = dir("upper");
    auto work = dir("work");
    auto target = dir("merged");
    Mount m{"overlay",
            "overlay",
            "",
            {"index=off", "workdir=" + work.string(), "upperdir=" + upper.string(),
             "lowerdir=" + joined}};
    auto st = mount(m, target);
    ASSERT_TRUE(st.ok()) << st.error().message();
    for (int i = 0; i < kLayers; ++i)
        EXPECT_EQ(read(target / ("only-" + std::to_string(i))), std::to_string(i));
    EXPECT_EQ(read(target / "shadowed"), "0");
    write(target / "new", "n");
    EXPECT_EQ(read(upper / "new"), "n");
    EXPECT_FALSE(stdfs::exists(stdfs::path(lowers[0]) / "new"));
    ASSERT_TRUE(unmount(target).ok());
    EXPECT_FALSE(is_mount_point(target));
}

TEST_F(MountTest, OverlayReadOnlyWithoutUpper) {
    auto l1 = dir("l1");
    auto l2 = dir("l2");
    write(l1 / "a", "1");
    write(l2 / "a", "2");
    write(l2 / "b", "2");
    auto target = dir("merged");
    Mount m{"overlay", "overlay", "", {"lowerdir=" + l1.string() + ":" + l2.string()}};
    EXPECT_TRUE(is_read_only(m));
    ASSERT_TRUE(mount(m, target).ok());
    EXPECT_EQ(read(target / "a"), "1");
    EXPECT_EQ(read(target / "b"), "2");
    EXPECT_EQ(::mkdir((target / "x").c_str(), 0755), -1);
    ASSERT_TRUE(unmount(target).ok());
}

TEST_F(MountTest, OverlayBadOptionNamesTheProblem) {
    auto target = dir("merged");
    Mount m{"overlay", "overlay", "", {"lowerdir=" + (root_ / "missing").string()}};
    auto st = mount(m, target);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find("missing"), std::string::npos) << st.error().message();
    EXPECT_FALSE(is_mount_point(target));
}

TEST_F(MountTest, MountPointsUnderUnescapesAndOrdersDeepestFirst) {
    auto outer = dir("with space\tand tab");
    ASSERT_TRUE(mount({"tmpfs", "tmpfs", "", {}}, outer).ok());
    auto inner = outer / "in ner";
    ASSERT_TRUE(stdfs::create_directory(inner));
    ASSERT_TRUE(mount({"tmpfs", "tmpfs", "", {}}, inner).ok());
    auto mps = mount_points_under(root_);
    ASSERT_TRUE(mps.ok());
    ASSERT_EQ(mps->size(), 2u);
    EXPECT_EQ((*mps)[0], inner);
    EXPECT_EQ((*mps)[1], outer);
    // A sibling whose name merely starts with the prefix is not under it.
    auto sib = mount_points_under(root_.string() + "/with");
    ASSERT_TRUE(sib.ok());
    EXPECT_TRUE(sib->empty());
    ASSERT_TRUE(unmount(inner).ok());
    ASSERT_TRUE(unmount(outer).ok());
}

TEST_F(MountTest, MountAllUsesTargetSubPaths) {
    auto src = dir("src");
    write(src / "f", "sub");
    std::vector<Mount> ms{{"tmpfs", "tmpfs", "", {}}};
    auto tm = TempMount::create(ms, root_);
    ASSERT_TRUE(tm.ok());
    stdfs::create_directory(tm->path() / "sub");
    ASSERT_TRUE(
        mount_all(std::vector<Mount>{{"bind", src.string(), "/sub", {"rbind", "ro"}}}, tm->path())
            .ok());
    EXPECT_EQ(read(tm->path() / "sub" / "f"), "sub");
    ASSERT_TRUE(unmount(tm->path() / "sub").ok());
}

TEST_F(MountTest, TempMountCleansUpOnDestruction) {
    auto src = dir("src");
    write(src / "f", "x");
    stdfs::path seen;
    {
        std::vector<Mount> ms{{"bind", src.string(), "", {"ro", "rbind"}}};
        auto tm = TempMount::create(ms, root_);
        ASSERT_TRUE(tm.ok()) << tm.error().message();
        seen = tm->path();
        EXPECT_EQ(read(seen / "f"), "x");
        EXPECT_TRUE(is_mount_point(seen));
        TempMount moved = std::move(*tm);
        EXPECT_EQ(moved.path(), seen);
    }
    EXPECT_FALSE(stdfs::exists(seen));
    auto mps = mount_points_under(root_);
    ASSERT_TRUE(mps.ok());
    EXPECT_TRUE(mps->empty());
}

TEST_F(MountTest, TempMountWithBusyMountDetachesOnDestruction) {
    auto src = dir("src");
    stdfs::path seen;
    int fd = -1;
    {
        std::vector<Mount> ms{{"tmpfs", "tmpfs", "", {}}};
        auto tm = TempMount::create(ms, root_);
        ASSERT_TRUE(tm.ok());
        seen = tm->path();
        // An open file keeps the mount busy: unmount cannot succeed, only a lazy detach.
        fd = ::open((seen / "f").c_str(), O_CREAT | O_RDWR, 0644);
        ASSERT_GE(fd, 0);
    }
    EXPECT_FALSE(stdfs::exists(seen));
    ::close(fd);
}

TEST_F(MountTest, TempMountFailureLeavesNoDirectory) {
    std::vector<Mount> ms{{"bind", (root_ / "missing").string(), "", {"rbind"}}};
    auto tm = TempMount::create(ms, root_);
    ASSERT_FALSE(tm.ok());
    EXPECT_TRUE(stdfs::is_empty(root_));
}

TEST(MountOptions, Helpers) {
    Mount m{"overlay", "overlay", "", {"index=off", "workdir=/w", "upperdir=/u", "lowerdir=/a:/b"}};
    EXPECT_EQ(option_value(m, "upperdir"), "/u");
    EXPECT_EQ(option_value(m, "workdir"), "/w");
    EXPECT_EQ(option_value(m, "upper"), "");
    EXPECT_EQ(lowerdirs(m), (std::vector<std::string>{"/a", "/b"}));
    EXPECT_FALSE(is_read_only(m));
    EXPECT_TRUE(is_read_only({"bind", "/x", "", {"ro", "rbind"}}));
    EXPECT_FALSE(is_read_only({"bind", "/x", "", {"rw", "rbind"}}));
    EXPECT_TRUE(lowerdirs({"bind", "/x", "", {}}).empty());
}

} // namespace
} // namespace gantry::mount

namespace gantry::mount {
namespace {

unsigned long vfs_flags(const std::filesystem::path& p) {
    struct statvfs s {};
    EXPECT_EQ(::statvfs(p.c_str(), &s), 0);
    return s.f_flag;
}

TEST_F(MountTest, FlagOptionsBecomeMountFlags) {
    auto t = dir("flags");
    ASSERT_TRUE(
        mount({"tmpfs", "tmpfs", "", {"nosuid", "nodev", "noexec", "ro", "size=1m"}}, t).ok());
    auto f = vfs_flags(t);
    EXPECT_TRUE(f & ST_NOSUID);
    EXPECT_TRUE(f & ST_NODEV);
    EXPECT_TRUE(f & ST_NOEXEC);
    EXPECT_TRUE(f & ST_RDONLY);
    ASSERT_TRUE(unmount(t).ok());
    // A later "rw" undoes an earlier "ro", as in containerd's option parsing.
    ASSERT_TRUE(mount({"tmpfs", "tmpfs", "", {"ro", "rw"}}, t).ok());
    EXPECT_FALSE(vfs_flags(t) & ST_RDONLY);
    ASSERT_TRUE(unmount(t).ok());
}

TEST_F(MountTest, OverlayFlagOptionsApplyThroughTheNewApi) {
    auto l = dir("l");
    auto u = dir("u");
    auto w = dir("w");
    auto t = dir("m");
    Mount m{"overlay",
            "overlay",
            "",
            {"nosuid", "nodev", "ro", "workdir=" + w.string(), "upperdir=" + u.string(),
             "lowerdir=" + l.string()}};
    ASSERT_TRUE(mount(m, t).ok());
    auto f = vfs_flags(t);
    EXPECT_TRUE(f & ST_NOSUID);
    EXPECT_TRUE(f & ST_NODEV);
    EXPECT_TRUE(f & ST_RDONLY);
    ASSERT_TRUE(unmount(t).ok());
}

} // namespace
} // namespace gantry::mount

namespace gantry::mount {
namespace {

TEST_F(MountTest, MountAllUndoesEarlierMountsWhenOneFails) {
    auto t = dir("all");
    std::vector<Mount> ms{{"tmpfs", "tmpfs", "", {}},
                          {"bind", (root_ / "missing").string(), "/sub", {"rbind"}}};
    auto st = mount_all(ms, t);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::NotFound) << st.error().message();
    auto mps = mount_points_under(root_);
    ASSERT_TRUE(mps.ok());
    EXPECT_TRUE(mps->empty());
}

} // namespace
} // namespace gantry::mount
