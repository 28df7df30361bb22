// What is particular to the btrfs snapshotter (the shared conformance suite covers the
// Snapshotter contract): the mounts it hands out work as real kernel mounts, every snapshot is
// its own subvolume, Remove deletes it, and cleanup() deletes what a crash can leave behind.
#include "core/mount/mount.hpp"
#include "snapshotters/btrfs/btrfs_snapshotter.hpp"
#include "snapshotters/btrfs/subvolume.hpp"
#include "snapshotters/btrfs/testing/loop_btrfs.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace bt = gantry::snapshots::btrfs;
using gantry::Errc;
using gantry::snapshots::Kind;
using gantry::snapshots::Mounts;

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write(const fs::path& p, const std::string& s) {
    std::ofstream(p) << s;
}

class BtrfsSnapshotterTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto fsr = bt::testing::LoopBtrfs::create();
        if (!fsr.ok() && fsr.error().is(Errc::Unavailable)) GTEST_SKIP() << fsr.error().message();
        ASSERT_TRUE(fsr.ok()) << fsr.error().message();
        btrfs_ = std::move(fsr).value();
        root_ = btrfs_->mount_point() / "io.containerd.snapshotter.v1.btrfs";
        auto s = bt::BtrfsSnapshotter::open(root_);
        ASSERT_TRUE(s.ok()) << s.error().message();
        sn_ = *s;
        scratch_ = btrfs_->mount_point() / "mnt";
        fs::create_directory(scratch_);
    }
    void TearDown() override {
        mounts_.clear(); // unmount before the filesystem goes
        sn_.reset();
    }

    // Mounts `m` under the scratch directory for the rest of the test.
    fs::path mount(const Mounts& m) {
        auto t = gantry::mount::TempMount::create(m, scratch_);
        EXPECT_TRUE(t.ok()) << t.error().message();
        if (!t.ok()) return {};
        mounts_.push_back(std::move(t).value());
        return mounts_.back().path();
    }

    std::unique_ptr<bt::testing::LoopBtrfs> btrfs_;
    fs::path root_;
    fs::path scratch_;
    std::shared_ptr<bt::BtrfsSnapshotter> sn_;
    std::vector<gantry::mount::TempMount> mounts_;
};

TEST_F(BtrfsSnapshotterTest, MountsAreTheDeviceWithTheSubvolumeId) {
    auto m = sn_->prepare("a", "", {});
    ASSERT_TRUE(m.ok()) << m.error().message();
    ASSERT_EQ(m->size(), 1u);
    const auto& mt = m->front();
    EXPECT_EQ(mt.type, "btrfs");
    EXPECT_EQ(mt.source, btrfs_->device());
    auto id = bt::subvolume_id(root_ / "active" / "1");
    ASSERT_TRUE(id.ok()) << id.error().message();
    EXPECT_EQ(mt.options, std::vector<std::string>{"subvolid=" + std::to_string(*id)});
    // The same answer later, from Mounts.
    EXPECT_EQ(*sn_->mounts("a"), *m);

    ASSERT_TRUE(sn_->commit("base", "a", {}).ok());
    auto v = sn_->view("v", "base", {});
    ASSERT_TRUE(v.ok()) << v.error().message();
    EXPECT_EQ(v->front().options.back(), "ro");
    auto c = sn_->mounts("base");
    ASSERT_FALSE(c.ok());
    EXPECT_TRUE(c.error().is(Errc::FailedPrecondition));
}

TEST_F(BtrfsSnapshotterTest, ARealMountSeesTheLayers) {
    auto a = sn_->prepare("a", "", {});
    ASSERT_TRUE(a.ok());
    fs::path pa = mount(*a);
    ASSERT_FALSE(pa.empty());
    write(pa / "base.txt", "from base");
    mounts_.clear();
    ASSERT_TRUE(sn_->commit("base", "a", {}).ok());

    auto b = sn_->prepare("b", "base", {});
    ASSERT_TRUE(b.ok());
    fs::path pb = mount(*b);
    EXPECT_EQ(slurp(pb / "base.txt"), "from base");
    write(pb / "child.txt", "child");
    write(pb / "base.txt", "overwritten");

    auto v = sn_->view("v", "base", {});
    ASSERT_TRUE(v.ok());
    fs::path pv = mount(*v);
    EXPECT_EQ(slurp(pv / "base.txt"), "from base"); // the child's write is not the parent's
    EXPECT_FALSE(fs::exists(pv / "child.txt"));
    int fd = ::open((pv / "x").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    EXPECT_LT(fd, 0);
    if (fd >= 0) ::close(fd);
}

TEST_F(BtrfsSnapshotterTest, CommitLeavesOnlyAReadOnlySubvolume) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    write(root_ / "active" / "1" / "f", "x");
    ASSERT_TRUE(sn_->commit("c", "a", {}).ok());
    EXPECT_FALSE(fs::exists(root_ / "active" / "1"));
    ASSERT_TRUE(*bt::is_subvolume(root_ / "snapshots" / "1"));
    EXPECT_TRUE(*bt::is_read_only(root_ / "snapshots" / "1"));
    EXPECT_EQ(slurp(root_ / "snapshots" / "1" / "f"), "x");
    EXPECT_EQ(sn_->stat("c")->kind, Kind::committed);
}

TEST_F(BtrfsSnapshotterTest, RemoveDeletesTheSubvolume) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    ASSERT_TRUE(sn_->commit("c", "a", {}).ok());
    ASSERT_TRUE(sn_->view("v", "c", {}).ok());
    ASSERT_TRUE(sn_->prepare("p", "c", {}).ok());
    // A container may create a subvolume inside its rootfs; Remove takes it along.
    ASSERT_TRUE(bt::create_subvolume(root_ / "active" / "3" / "nested").ok());
    EXPECT_TRUE(fs::exists(root_ / "view" / "2"));

    auto busy = sn_->remove("c");
    ASSERT_FALSE(busy.ok());
    EXPECT_TRUE(busy.error().is(Errc::FailedPrecondition)) << busy.error().message();
    EXPECT_TRUE(fs::exists(root_ / "snapshots" / "1"));

    ASSERT_TRUE(sn_->remove("v").ok());
    auto st = sn_->remove("p");
    ASSERT_TRUE(st.ok()) << st.error().message();
    ASSERT_TRUE(sn_->remove("c").ok());
    for (const char* d : {"active", "view", "snapshots"})
        EXPECT_TRUE(fs::is_empty(root_ / d)) << d;
    EXPECT_TRUE(sn_->stat("c").error().is(Errc::NotFound));
}

TEST_F(BtrfsSnapshotterTest, CleanupDeletesWhatNoRecordOwns) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());     // id 1, active
    ASSERT_TRUE(sn_->commit("c", "a", {}).ok());     // id 1, committed
    ASSERT_TRUE(sn_->prepare("live", "c", {}).ok()); // id 2, active
    // What crashes leave: a half-built subvolume, a removal that did not finish, the active
    // subvolume of a snapshot committed just before the crash, a snapshot whose record never
    // committed, and a stray directory.
    ASSERT_TRUE(bt::create_subvolume(root_ / "active" / "new-0123").ok());
    ASSERT_TRUE(
        bt::snapshot_subvolume(root_ / "snapshots" / "1", root_ / "view" / "rm-9", true).ok());
    ASSERT_TRUE(
        bt::snapshot_subvolume(root_ / "snapshots" / "1", root_ / "active" / "1", false).ok());
    ASSERT_TRUE(
        bt::snapshot_subvolume(root_ / "snapshots" / "1", root_ / "snapshots" / "7", true).ok());
    fs::create_directories(root_ / "view" / "junk" / "deeper");

    auto st = sn_->cleanup();
    ASSERT_TRUE(st.ok()) << st.error().message();
    std::vector<std::string> left;
    for (const char* d : {"active", "view", "snapshots"})
        for (const auto& e : fs::directory_iterator(root_ / d))
            left.push_back(std::string(d) + "/" + e.path().filename().string());
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"active/2", "snapshots/1"}));
    EXPECT_TRUE(sn_->mounts("live").ok());
}

TEST_F(BtrfsSnapshotterTest, AnOrphanAtTheNextIdIsReplaced) {
    // A crash after the rename but before the transaction committed leaves <dir>/<id> while the
    // id goes back to the pool; the next snapshot to get that id must not trip over it.
    ASSERT_TRUE(bt::create_subvolume(root_ / "active" / "1").ok());
    write(root_ / "active" / "1" / "stale", "x");
    auto m = sn_->prepare("a", "", {});
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_FALSE(fs::exists(root_ / "active" / "1" / "stale"));
    // Even a plain directory there (not something we make) does not block the id.
    fs::create_directories(root_ / "active" / "2" / "sub");
    auto n = sn_->prepare("b", "", {});
    ASSERT_TRUE(n.ok()) << n.error().message();
    EXPECT_TRUE(*bt::is_subvolume(root_ / "active" / "2"));
}

TEST_F(BtrfsSnapshotterTest, UsageCountsOnlyWhatTheSnapshotAdds) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    write(root_ / "active" / "1" / "big", std::string(1 << 20, 'x'));
    ::sync();
    auto ua = sn_->usage("a");
    ASSERT_TRUE(ua.ok()) << ua.error().message();
    EXPECT_GE(ua->size, 1 << 20);
    EXPECT_EQ(ua->inodes, 2); // the root and the file
    ASSERT_TRUE(sn_->commit("c", "a", {}).ok());
    auto uc = sn_->usage("c");
    ASSERT_TRUE(uc.ok());
    EXPECT_EQ(uc->size, ua->size); // recorded at commit
    EXPECT_EQ(uc->inodes, ua->inodes);

    ASSERT_TRUE(sn_->prepare("b", "c", {}).ok());
    auto empty = sn_->usage("b");
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->size, 0);
    EXPECT_EQ(empty->inodes, 0);
    write(root_ / "active" / "2" / "small", std::string(10000, 'y'));
    ::sync();
    auto ub = sn_->usage("b");
    ASSERT_TRUE(ub.ok());
    EXPECT_GE(ub->size, 10000);
    EXPECT_LT(ub->size, 1 << 20); // the parent's file is not charged to the child
    EXPECT_GE(ub->inodes, 1);
}

TEST_F(BtrfsSnapshotterTest, ReopenKeepsEverything) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    ASSERT_TRUE(sn_->commit("c", "a", {{"containerd.io/snapshot/x", "1"}}).ok());
    ASSERT_TRUE(sn_->prepare("p", "c", {}).ok());
    sn_.reset();
    auto s = bt::BtrfsSnapshotter::open(root_);
    ASSERT_TRUE(s.ok()) << s.error().message();
    sn_ = *s;
    auto info = sn_->stat("c");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->labels.at("containerd.io/snapshot/x"), "1");
    EXPECT_TRUE(sn_->mounts("p").ok());
    EXPECT_TRUE(sn_->cleanup().ok());
    EXPECT_TRUE(fs::exists(root_ / "active" / "2"));
}

TEST_F(BtrfsSnapshotterTest, ConcurrentWritersEachGetTheirOwnSubvolume) {
    ASSERT_TRUE(sn_->prepare("a", "", {}).ok());
    ASSERT_TRUE(sn_->commit("base", "a", {}).ok());
    constexpr int kThreads = 4, kEach = 8;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const std::string k = "t" + std::to_string(t) + "-" + std::to_string(i);
                bool ok = sn_->prepare(k, "base", {}).ok() && sn_->commit("c-" + k, k, {}).ok() &&
                          sn_->view("v-" + k, "c-" + k, {}).ok();
                if (ok && i % 2 == 0) ok = sn_->remove("v-" + k).ok() && sn_->remove("c-" + k).ok();
                if (!ok) ++failures;
            }
        });
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    int records = 0;
    ASSERT_TRUE(sn_->walk(nullptr,
                          [&](const gantry::snapshots::Info&) {
                              ++records;
                              return gantry::ok_status();
                          })
                    .ok());
    EXPECT_EQ(records, 1 + kThreads * kEach / 2 * 2);
    std::size_t subvolumes = 0;
    for (const char* d : {"active", "view", "snapshots"})
        subvolumes += std::distance(fs::directory_iterator(root_ / d), fs::directory_iterator());
    EXPECT_EQ(subvolumes, static_cast<std::size_t>(records));
}

// SIGKILL at a random moment of a busy writer, several times: afterwards every record still has
// its subvolume, and after cleanup() every subvolume has its record.
TEST_F(BtrfsSnapshotterTest, SigkillAtAnyPointLeavesRecordsAndSubvolumesInStep) {
    sn_.reset();
    std::mt19937 rng(std::random_device{}());
    for (int round = 0; round < 6; ++round) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto s = bt::BtrfsSnapshotter::open(root_);
            if (!s.ok()) ::_exit(3);
            auto& sn = **s;
            std::string parent;
            for (int i = 0;; ++i) {
                const std::string k = "r" + std::to_string(round) + "-" + std::to_string(i);
                if (!sn.prepare(k, parent, {}).ok()) ::_exit(4);
                if (!sn.commit("c" + k, k, {}).ok()) ::_exit(5);
                if (!sn.view("v" + k, "c" + k, {}).ok()) ::_exit(6);
                if (!sn.remove("v" + k).ok()) ::_exit(7);
                parent = "c" + k;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 250));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status))
            << "the writer failed by itself: exit " << WEXITSTATUS(status);
    }
    auto s = bt::BtrfsSnapshotter::open(root_);
    ASSERT_TRUE(s.ok()) << s.error().message();
    sn_ = *s;
    std::vector<gantry::snapshots::Info> infos;
    ASSERT_TRUE(sn_->walk(nullptr,
                          [&](const gantry::snapshots::Info& i) {
                              infos.push_back(i);
                              return gantry::ok_status();
                          })
                    .ok());
    ASSERT_FALSE(infos.empty());
    for (const auto& i : infos) {
        if (i.kind == Kind::committed) {
            // Its subvolume exists: a child can be snapshotted from it.
            auto m = sn_->view("check-" + i.name, i.name, {});
            EXPECT_TRUE(m.ok()) << i.name << ": " << m.error().message();
            EXPECT_TRUE(sn_->remove("check-" + i.name).ok());
        } else {
            auto m = sn_->mounts(i.name);
            EXPECT_TRUE(m.ok()) << i.name << ": " << m.error().message();
        }
    }
    auto st = sn_->cleanup();
    ASSERT_TRUE(st.ok()) << st.error().message();
    std::size_t subvolumes = 0;
    for (const char* d : {"active", "view", "snapshots"})
        for (const auto& e : fs::directory_iterator(root_ / d)) {
            ++subvolumes;
            const auto name = e.path().filename().string();
            EXPECT_EQ(name.find_first_not_of("0123456789"), std::string::npos) << name;
        }
    EXPECT_EQ(subvolumes, infos.size());
}

TEST(BtrfsSnapshotterOpen, RefusesARootNotOnBtrfs) {
    char tmpl[] = "/tmp/gbtrfs-open-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    auto s = bt::BtrfsSnapshotter::open(fs::path(tmpl) / "root");
    std::error_code ec;
    bool created = fs::exists(fs::path(tmpl) / "root");
    fs::remove_all(tmpl, ec);
    if (s.ok()) GTEST_SKIP() << "/tmp is on btrfs";
    EXPECT_TRUE(s.error().is(Errc::FailedPrecondition)) << s.error().message();
    EXPECT_NE(s.error().message().find("not on a btrfs filesystem"), std::string::npos);
    EXPECT_FALSE(created); // nothing is made before the check
}

} // namespace
