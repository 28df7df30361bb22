// The overlayfs snapshotter runs the whole conformance suite, plus the cases that pin its
// layout and mount options to containerd's (protocol-facts.md §8.2).
#include "core/mount/mount.hpp"
#include "snapshotters/overlay/overlay.hpp"
#include "snapshotters/testsuite/testsuite.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

GANTRY_SNAPSHOTTER_TESTSUITE(Overlay, [](const std::filesystem::path& root) {
    return gantry::snapshots::overlay::open(root);
})

namespace gantry::snapshots::overlay {
namespace {

namespace stdfs = std::filesystem;

class OverlayLayout : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        std::string pattern = "/var/tmp/gantry-overlay-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        root_ = dir_ / "root";
        auto sn = open(root_);
        ASSERT_TRUE(sn.ok()) << sn.error().message();
        sn_ = *sn;
    }
    void TearDown() override {
        sn_.reset();
        if (dir_.empty()) return;
        if (auto mps = mount::mount_points_under(dir_); mps.ok())
            for (const auto& mp : *mps)
                ::umount2(mp.c_str(), MNT_DETACH);
        std::error_code ec;
        stdfs::remove_all(dir_, ec);
    }
    std::string snap(const std::string& id, const std::string& sub = "fs") {
        return (root_ / "snapshots" / id / sub).string();
    }
    void committed(const std::string& name, const std::string& parent) {
        ASSERT_TRUE(sn_->prepare(name + "-a", parent, {}).ok());
        ASSERT_TRUE(sn_->commit(name, name + "-a", {}).ok());
    }
    static mode_t mode(const std::string& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 07777;
    }

    stdfs::path dir_, root_;
    std::shared_ptr<Snapshotter> sn_;
};

TEST_F(OverlayLayout, MountsAreContainerds) {
    bool index = ::access("/sys/module/overlay/parameters/index", F_OK) == 0;
    auto a = sn_->prepare("a", "", {});
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, (Mounts{{"bind", snap("1"), "", {"rw", "rbind"}}}));
    EXPECT_EQ(mode(snap("1")), 0755u);
    EXPECT_EQ(mode(snap("1", "work")), 0711u);
    ASSERT_TRUE(sn_->commit("A", "a", {}).ok());
    auto v0 = sn_->view("v0", "", {});
    ASSERT_TRUE(v0.ok());
    EXPECT_EQ(*v0, (Mounts{{"bind", snap("2"), "", {"ro", "rbind"}}}));
    EXPECT_FALSE(stdfs::exists(snap("2", "work"))) << "views have no workdir";
    auto v1 = sn_->view("v1", "A", {});
    ASSERT_TRUE(v1.ok());
    EXPECT_EQ(*v1, (Mounts{{"bind", snap("1"), "", {"ro", "rbind"}}}));

    auto b = sn_->prepare("b", "A", {});
    ASSERT_TRUE(b.ok());
    std::vector<std::string> opts;
    if (index) opts.push_back("index=off");
    opts.push_back("workdir=" + snap("4", "work"));
    opts.push_back("upperdir=" + snap("4"));
    opts.push_back("lowerdir=" + snap("1"));
    EXPECT_EQ(*b, (Mounts{{"overlay", "overlay", "", opts}}));
    ASSERT_TRUE(sn_->commit("B", "b", {}).ok());

    auto v2 = sn_->view("v2", "B", {});
    ASSERT_TRUE(v2.ok());
    std::vector<std::string> vopts;
    if (index) vopts.push_back("index=off");
    vopts.push_back("lowerdir=" + snap("4") + ":" + snap("1")); // nearest parent first
    EXPECT_EQ(*v2, (Mounts{{"overlay", "overlay", "", vopts}}));
}

TEST_F(OverlayLayout, RemoveKeepsDirectoriesUntilCleanup) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    ASSERT_TRUE(sn_->remove("a").ok());
    EXPECT_TRUE(stdfs::exists(snap("1")));
    ASSERT_TRUE(sn_->cleanup().ok());
    EXPECT_FALSE(stdfs::exists(root_ / "snapshots" / "1"));
}

TEST_F(OverlayLayout, CleanupRemovesCrashLeftovers) {
    ASSERT_TRUE(sn_->prepare("live", "", {}).ok());
    auto snaps = root_ / "snapshots";
    for (const char* junk : {"new-abc123", "7", "0012"})
        stdfs::create_directories(snaps / junk / "fs" / "deep");
    ASSERT_TRUE(sn_->cleanup().ok());
    std::vector<std::string> left;
    for (const auto& e : stdfs::directory_iterator(snaps))
        left.push_back(e.path().filename());
    EXPECT_EQ(left, std::vector<std::string>{"1"});
    EXPECT_TRUE(sn_->mounts("live").ok());
}

TEST_F(OverlayLayout, ChildUpperGetsParentOwner) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    ASSERT_EQ(::chown(snap("1").c_str(), 100000, 100000), 0);
    ASSERT_TRUE(sn_->commit("A", "a", {}).ok());
    ASSERT_TRUE(sn_->prepare("b", "A", {}).ok());
    struct stat st {};
    ASSERT_EQ(::stat(snap("2").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 100000u);
    EXPECT_EQ(st.st_gid, 100000u);
}

TEST_F(OverlayLayout, UsageCountsOnlyTheUpperLayer) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    { std::ofstream(snap("1") + "/big") << std::string(1 << 20, 'x'); }
    ASSERT_TRUE(sn_->commit("A", "a", {}).ok());
    ASSERT_TRUE(sn_->prepare("b", "A", {}).ok());
    auto u = sn_->usage("b");
    ASSERT_TRUE(u.ok());
    EXPECT_LT(u->size, 1 << 16) << "the parent's data is not the child's";
    EXPECT_EQ(u->inodes, 1);
}

TEST_F(OverlayLayout, UpperdirLabel) {
    sn_.reset();
    auto sn = open(root_, {.upperdir_label = true});
    ASSERT_TRUE(sn.ok());
    sn_ = *sn;
    ASSERT_TRUE(sn_->prepare("a", "", {{"x", "y"}}).ok());
    auto st = sn_->stat("a");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->labels.at(std::string(kUpperdirLabel)), snap("1"));
    EXPECT_EQ(st->labels.at("x"), "y");
}

TEST_F(OverlayLayout, SupportedHereButNotOnOverlay) {
    EXPECT_TRUE(check_supported(dir_ / "check").ok());
    EXPECT_FALSE(stdfs::exists(dir_ / "check") && !stdfs::is_empty(dir_ / "check"));
    // An overlay's upper dir cannot itself be on overlay: the check must say so, not crash.
    committed("L", "");
    ASSERT_TRUE(sn_->prepare("on-top", "L", {}).ok());
    auto ms = sn_->mounts("on-top");
    ASSERT_TRUE(ms.ok());
    auto tm = mount::TempMount::create(*ms, dir_);
    ASSERT_TRUE(tm.ok()) << tm.error().message();
    auto st = check_supported(tm->path() / "nested");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::FailedPrecondition);
    EXPECT_NE(st.error().message().find("overlay"), std::string::npos) << st.error().message();
}

} // namespace
} // namespace gantry::snapshots::overlay
