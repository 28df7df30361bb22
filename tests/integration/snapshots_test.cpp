// Snapshots end to end: the real `ctr snapshots` and `gantry snapshots` against gantryd with the
// real native and overlayfs snapshotters: every verb, byte-identical output of the two CLIs,
// containerd's error codes, namespaces, events, real kernel mounts of what Prepare returns,
// garbage collection of removed snapshots and `gantry snapshots prune`.
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/mount.h>
#include <thread>

namespace gantry::itest {
namespace {

namespace stdfs = std::filesystem;

class SnapshotsTest : public SharedDaemonTest<SnapshotsTest>,
                      public ::testing::WithParamInterface<std::string> {
protected:
    const std::string& sn() const { return GetParam(); }
    Output ctr(std::vector<std::string> args, const std::string& ns = "snaptest") {
        args.insert(args.begin(), {"snapshots", "--snapshotter", sn()});
        return d().ctr(args, ns);
    }
    Output gantry(std::vector<std::string> args, const std::string& ns = "snaptest") {
        args.insert(args.begin(), {"snapshots", "--snapshotter", sn()});
        return d().gantry(args, ns);
    }
    // A unique key per test and backend (the daemon is shared).
    std::string key(const std::string& k) {
        return k + "-" + sn() + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    }
};

// Mounts what a `mount -t T SRC TARGET -o OPTS` line says, with mount(2); unmounts at the end.
class ScopedMount {
public:
    explicit ScopedMount(const std::string& line) {
        std::istringstream in(line);
        std::string word, type, source, opts;
        in >> word >> word >> type >> source >> target_ >> word >> opts;
        unsigned long flags = 0;
        std::string data;
        std::istringstream os(opts);
        std::string o;
        while (std::getline(os, o, ',')) {
            if (o == "rbind")
                flags |= MS_BIND | MS_REC;
            else if (o == "bind")
                flags |= MS_BIND;
            else if (o == "ro")
                flags |= MS_RDONLY;
            else if (o != "rw")
                data += (data.empty() ? "" : ",") + o;
        }
        stdfs::create_directories(target_);
        ok_ = ::mount(source.c_str(), target_.c_str(), type.c_str(), flags & ~MS_RDONLY,
                      data.empty() ? nullptr : data.c_str()) == 0;
        if (ok_ && (flags & MS_RDONLY) && (flags & MS_BIND))
            ok_ = ::mount(nullptr, target_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY,
                          nullptr) == 0;
    }
    ~ScopedMount() {
        if (ok_) ::umount2(target_.c_str(), MNT_DETACH);
    }
    bool ok() const { return ok_; }

private:
    std::string target_;
    bool ok_ = false;
};

void write_file(const stdfs::path& p, const std::string& s) {
    std::ofstream(p) << s;
}
std::string read_file(const stdfs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_P(SnapshotsTest, CtrLifecycle) {
    const auto a = key("a"), base = key("base"), child = key("child"), v = key("v");
    auto r = ctr({"prepare", a});
    ASSERT_EQ(r.exit_code, 0) << r.err << d().log();
    auto ls = ctr({"ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(contains(ls.out, "KEY")) << ls.out;
    EXPECT_TRUE(contains(ls.out, a)) << ls.out;
    EXPECT_TRUE(contains(ls.out, "Active")) << ls.out;
    ASSERT_EQ(ctr({"commit", base, a}).exit_code, 0);
    r = ctr({"prepare", "--target", "/mnt/x", child, base});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out.starts_with(sn() == "overlayfs" ? "mount -t overlay overlay /mnt/x -o "
                                                      : "mount -t bind "))
        << r.out;
    auto info = ctr({"info", child});
    ASSERT_EQ(info.exit_code, 0) << info.err;
    EXPECT_TRUE(contains(info.out, "\"Kind\": \"Active\"")) << info.out;
    EXPECT_TRUE(contains(info.out, "\"Parent\": \"" + base + "\"")) << info.out;
    EXPECT_TRUE(contains(info.out, "containerd.io/gc.root")) << info.out;
    auto binfo = ctr({"info", base});
    EXPECT_TRUE(contains(binfo.out, "\"Kind\": \"Committed\"")) << binfo.out;
    auto m = ctr({"mounts", "/target", child});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_TRUE(contains(m.out, " /target -o ")) << m.out;
    // gantry's view (unlike ctr's) labels the view gc.root, so a GC pass does not take it.
    ASSERT_EQ(gantry({"view", v, base}).exit_code, 0);
    auto lbl = ctr({"label", child, "color=blue"});
    ASSERT_EQ(lbl.exit_code, 0) << lbl.err;
    EXPECT_TRUE(contains(lbl.out, "color=blue")) << lbl.out;
    auto usage = ctr({"usage", child});
    ASSERT_EQ(usage.exit_code, 0) << usage.err;
    EXPECT_TRUE(contains(usage.out, "KEY")) << usage.out;
    EXPECT_TRUE(contains(usage.out, child)) << usage.out;
    auto tree = ctr({"tree"});
    ASSERT_EQ(tree.exit_code, 0) << tree.err;
    EXPECT_TRUE(contains(tree.out, " " + base + "\n  \\_ ")) << tree.out;
    // Remove: refused while children exist, then leaves first.
    auto rm = ctr({"rm", base});
    EXPECT_NE(rm.exit_code, 0);
    EXPECT_TRUE(contains(rm.err, "cannot remove snapshot with child")) << rm.err;
    ASSERT_EQ(ctr({"rm", child, v}).exit_code, 0);
    ASSERT_EQ(ctr({"rm", base}).exit_code, 0);
    EXPECT_FALSE(contains(ctr({"ls"}).out, base));
}

TEST_P(SnapshotsTest, ContainerdErrors) {
    const auto k = key("k"), c = key("c");
    ASSERT_EQ(ctr({"prepare", k}).exit_code, 0);
    auto dup = ctr({"prepare", k});
    EXPECT_NE(dup.exit_code, 0);
    EXPECT_TRUE(contains(dup.err, "already exists")) << dup.err;
    auto nop = ctr({"prepare", key("x"), "no-such-parent"});
    EXPECT_TRUE(contains(nop.err, "parent snapshot no-such-parent does not exist")) << nop.err;
    EXPECT_TRUE(contains(nop.err, "not found")) << nop.err;
    auto act = ctr({"prepare", key("y"), k}); // an active parent
    EXPECT_NE(act.exit_code, 0);
    EXPECT_TRUE(contains(act.err, "invalid argument")) << act.err;
    auto miss = ctr({"commit", c, "missing"});
    EXPECT_TRUE(contains(miss.err, "not found")) << miss.err;
    ASSERT_EQ(ctr({"commit", c, k}).exit_code, 0);
    auto mc = ctr({"mounts", "/t", c});
    EXPECT_TRUE(contains(mc.err, "failed precondition")) << mc.err;
    auto unknown = d().ctr({"snapshots", "--snapshotter", "nope", "ls"}, "snaptest");
    EXPECT_NE(unknown.exit_code, 0);
    EXPECT_TRUE(contains(unknown.err, "snapshotter not loaded: nope: invalid argument"))
        << unknown.err;
    auto g = d().gantry({"snapshots", "--snapshotter", "nope", "ls"}, "snaptest");
    EXPECT_NE(g.exit_code, 0);
    EXPECT_TRUE(contains(g.err, "snapshotter not loaded: nope")) << g.err;
    ASSERT_EQ(ctr({"rm", c}).exit_code, 0);
}

TEST_P(SnapshotsTest, GantryOutputIsCtrs) {
    const std::string ns = "snapcmp-" + sn();
    auto both = [&](std::vector<std::string> args) {
        auto c = ctr(args, ns);
        auto g = gantry(args, ns);
        EXPECT_EQ(c.exit_code, 0) << c.err;
        EXPECT_EQ(g.exit_code, 0) << g.err;
        EXPECT_EQ(g.out, c.out) << "gantry snapshots " << args[0];
    };
    ASSERT_EQ(gantry({"prepare", "l1"}, ns).exit_code, 0);
    ASSERT_EQ(gantry({"commit", "L1", "l1"}, ns).exit_code, 0);
    ASSERT_EQ(ctr({"prepare", "l2", "L1"}, ns).exit_code, 0);
    ASSERT_EQ(ctr({"commit", "L2", "l2"}, ns).exit_code, 0);
    ASSERT_EQ(gantry({"prepare", "work", "L2"}, ns).exit_code, 0);
    ASSERT_EQ(gantry({"view", "look", "L1"}, ns).exit_code, 0);
    both({"ls"});
    both({"tree"});
    both({"info", "work"});
    both({"info", "L1"});
    both({"usage", "--b", "work", "L1"});
    both({"usage", "L2"});
    both({"mounts", "/some/where", "work"});
    both({"mounts", "/some/where", "look"});
    auto l = gantry({"label", "work", "x=1", "y=2"}, ns);
    ASSERT_EQ(l.exit_code, 0) << l.err;
    EXPECT_TRUE(contains(l.out, "x=1") && contains(l.out, "y=2")) << l.out;
    auto cleared = gantry({"label", "work", "x="}, ns);
    EXPECT_FALSE(contains(cleared.out, "x=1")) << cleared.out;
    for (const char* k : {"work", "look", "L2", "L1"}) {
        auto rm = gantry({"rm", k}, ns);
        ASSERT_EQ(rm.exit_code, 0) << k << ": " << rm.err;
    }
}

TEST_P(SnapshotsTest, NamespacesAreIsolated) {
    const auto k = key("iso");
    ASSERT_EQ(ctr({"prepare", k}, "iso-a").exit_code, 0);
    ASSERT_EQ(ctr({"prepare", k}, "iso-b").exit_code, 0); // same key, other namespace
    EXPECT_NE(ctr({"info", k}, "iso-c").exit_code, 0);
    ASSERT_EQ(ctr({"rm", k}, "iso-a").exit_code, 0);
    EXPECT_EQ(ctr({"info", k}, "iso-b").exit_code, 0);
    EXPECT_FALSE(contains(ctr({"ls"}, "iso-a").out, k));
    ASSERT_EQ(ctr({"rm", k}, "iso-b").exit_code, 0);
}

TEST_P(SnapshotsTest, PreparedMountsAreRealLayers) {
    const auto base = key("base"), w = key("w"), w2 = key("w2"), v = key("v");
    TempDir mnt;
    auto p = gantry({"prepare", "--target", mnt.path() + "/m1", w});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    {
        ScopedMount m(p.out);
        ASSERT_TRUE(m.ok()) << p.out << ": " << std::strerror(errno);
        write_file(mnt.path() + "/m1/hello", "layer one");
    }
    ASSERT_EQ(gantry({"commit", base, w}).exit_code, 0);
    p = gantry({"prepare", "--target", mnt.path() + "/m2", w2, base});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    {
        ScopedMount m(p.out);
        ASSERT_TRUE(m.ok()) << p.out << ": " << std::strerror(errno);
        EXPECT_EQ(read_file(mnt.path() + "/m2/hello"), "layer one");
        write_file(mnt.path() + "/m2/second", "2");
    }
    auto u = gantry({"usage", "--b", w2});
    EXPECT_TRUE(contains(u.out, w2)) << u.out;
    p = gantry({"view", "--target", mnt.path() + "/m3", v, base});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    {
        ScopedMount m(p.out);
        ASSERT_TRUE(m.ok()) << p.out;
        EXPECT_EQ(read_file(mnt.path() + "/m3/hello"), "layer one");
        EXPECT_FALSE(stdfs::exists(mnt.path() + "/m3/second"));
        std::ofstream f(mnt.path() + "/m3/nope");
        EXPECT_FALSE(f.good()) << "a view is read-only";
    }
    ASSERT_EQ(gantry({"rm", w2, v, base}).exit_code, 0);
}

TEST_P(SnapshotsTest, EventsForPrepareCommitRemove) {
    const auto k = key("ev"), n = key("evn");
    Output events;
    std::thread watcher([&] {
        events = run({"ctr", "--address", d().socket(), "events"}, {}, std::chrono::seconds(3));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    ASSERT_EQ(ctr({"prepare", k}).exit_code, 0);
    ASSERT_EQ(ctr({"commit", n, k}).exit_code, 0);
    ASSERT_EQ(gantry({"view", key("evv"), n}).exit_code, 0);
    ASSERT_EQ(ctr({"rm", key("evv"), n}).exit_code, 0);
    watcher.join();
    EXPECT_TRUE(contains(events.out, "/snapshot/prepare")) << events.out;
    EXPECT_TRUE(contains(events.out, "/snapshot/commit")) << events.out;
    EXPECT_TRUE(contains(events.out, "/snapshot/remove")) << events.out;
    EXPECT_TRUE(contains(events.out, k)) << events.out;
    EXPECT_FALSE(contains(events.out, "\"key\":\"" + key("evv") + "\",\"parent\""))
        << "View publishes no event: " << events.out;
}

INSTANTIATE_TEST_SUITE_P(Backends, SnapshotsTest, ::testing::Values("native", "overlayfs"));

namespace sv1 = containerd::services::snapshots::v1;

TEST(SnapshotsGrpc, SnapshotterArgumentAndListBatches) {
    Daemon d;
    ASSERT_GT(d.pid(), 0) << d.log();
    auto stub = sv1::Snapshots::NewStub(channel(d.socket()));
    {
        sv1::StatSnapshotRequest req;
        sv1::StatSnapshotResponse resp;
        auto st = stub->Stat(context().get(), req, &resp);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_EQ(st.error_message(), "snapshotter argument missing: invalid argument");
        req.set_snapshotter("zfs");
        st = stub->Stat(context().get(), req, &resp);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_EQ(st.error_message(), "snapshotter not loaded: zfs: invalid argument");
        req.set_snapshotter("native");
        req.set_key("nope");
        st = stub->Stat(context().get(), req, &resp);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
        st = stub->Stat(context("").get(), req, &resp);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
    }
    {
        // A lease that does not exist: NotFound, as containerd.
        sv1::PrepareSnapshotRequest req;
        req.set_snapshotter("native");
        req.set_key("leased");
        sv1::PrepareSnapshotResponse resp;
        auto ctx = context();
        ctx->AddMetadata("containerd-lease", "no-such-lease");
        auto st = stub->Prepare(ctx.get(), req, &resp);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
    }
    constexpr int kCount = 230;
    for (int i = 0; i < kCount; ++i) {
        sv1::PrepareSnapshotRequest req;
        req.set_snapshotter("native");
        req.set_key("k" + std::to_string(1000 + i));
        (*req.mutable_labels())["containerd.io/gc.root"] = "x";
        sv1::PrepareSnapshotResponse resp;
        auto st = stub->Prepare(context().get(), req, &resp);
        ASSERT_TRUE(st.ok()) << st.error_message();
        ASSERT_EQ(resp.mounts_size(), 1);
        EXPECT_EQ(resp.mounts(0).type(), "bind");
    }
    sv1::ListSnapshotsRequest req;
    req.set_snapshotter("native");
    auto ctx = context();
    auto reader = stub->List(ctx.get(), req);
    sv1::ListSnapshotsResponse resp;
    int total = 0, messages = 0;
    while (reader->Read(&resp)) {
        EXPECT_LE(resp.info_size(), 100);
        total += resp.info_size();
        ++messages;
    }
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(total, kCount);
    EXPECT_EQ(messages, 3);
    // A filter: kind and a label.
    req.add_filters("kind==active,name==k1007");
    auto ctx2 = context();
    auto r2 = stub->List(ctx2.get(), req);
    total = 0;
    while (r2->Read(&resp))
        total += resp.info_size();
    EXPECT_TRUE(r2->Finish().ok());
    EXPECT_EQ(total, 1);
}

// Backend snapshot directories under the snapshotter's root.
std::size_t snapshot_dirs(const Daemon& d, const std::string& sn) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = stdfs::directory_iterator(
             d.root() + "/io.containerd.snapshotter.v1." + sn + "/snapshots", ec);
         !ec && it != stdfs::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

class SnapshotsGcTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SnapshotsGcTest, RemovedSnapshotsAreCollected) {
    const std::string sn = GetParam();
    Daemon d;
    ASSERT_GT(d.pid(), 0) << d.log();
    for (const char* k : {"a", "b"})
        ASSERT_EQ(d.ctr({"snapshots", "--snapshotter", sn, "prepare", k}, "gc").exit_code, 0);
    ASSERT_EQ(d.ctr({"snapshots", "--snapshotter", sn, "commit", "A", "a"}, "gc").exit_code, 0);
    // ctr's view carries no gc.root: as in containerd, nothing keeps it.
    ASSERT_EQ(d.ctr({"snapshots", "--snapshotter", sn, "view", "unrooted"}, "gc").exit_code, 0);
    ASSERT_EQ(snapshot_dirs(d, sn), 3u);
    ASSERT_EQ(d.ctr({"snapshots", "--snapshotter", sn, "rm", "A"}, "gc").exit_code, 0);
    // The scheduler collects soon after a deletion: the backend data goes, b stays.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (snapshot_dirs(d, sn) != 1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(snapshot_dirs(d, sn), 1u) << d.log();
    EXPECT_EQ(d.ctr({"snapshots", "--snapshotter", sn, "info", "b"}, "gc").exit_code, 0);
    EXPECT_NE(d.ctr({"snapshots", "--snapshotter", sn, "info", "unrooted"}, "gc").exit_code, 0);
}

TEST_P(SnapshotsGcTest, PruneListsThenRemovesWhatNoMetadataNames) {
    const std::string sn = GetParam();
    // No GC pass for an hour, so removed snapshots stay on disk until we prune.
    Daemon d(Daemon::Options{.config_text =
                                 "version = 2\n[plugins.\"io.containerd.gc.v1.scheduler\"]\n"
                                 "deletion_threshold = 1000\nmutation_threshold = 100000\n"
                                 "startup_delay = \"1h\"\n"});
    ASSERT_GT(d.pid(), 0) << d.log();
    auto g = [&](std::vector<std::string> args, const std::string& ns = "prune") {
        args.insert(args.begin(), {"snapshots", "--snapshotter", sn});
        return d.gantry(args, ns);
    };
    ASSERT_EQ(g({"prepare", "keep"}).exit_code, 0);
    ASSERT_EQ(g({"prepare", "x"}).exit_code, 0);
    ASSERT_EQ(g({"commit", "X", "x"}).exit_code, 0);
    ASSERT_EQ(g({"prepare", "y", "X"}).exit_code, 0);
    ASSERT_EQ(g({"prepare", "other"}, "prune2").exit_code, 0);
    ASSERT_EQ(g({"rm", "y", "X"}).exit_code, 0);
    ASSERT_EQ(snapshot_dirs(d, sn), 4u);
    auto dry = g({"prune", "--dry-run"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_TRUE(contains(dry.out, "would remove prune/")) << dry.out;
    EXPECT_TRUE(contains(dry.out, "/y\n")) << dry.out;
    EXPECT_TRUE(contains(dry.out, "/X\n")) << dry.out;
    EXPECT_TRUE(contains(dry.out, "2 snapshot(s) would be removed")) << dry.out;
    EXPECT_LT(dry.out.find("/y\n"), dry.out.find("/X\n")) << "leaves first: " << dry.out;
    EXPECT_EQ(snapshot_dirs(d, sn), 4u) << "a dry run removes nothing";
    auto real = g({"prune"});
    ASSERT_EQ(real.exit_code, 0) << real.err;
    EXPECT_TRUE(contains(real.out, "2 snapshot(s) removed")) << real.out;
    EXPECT_EQ(snapshot_dirs(d, sn), 2u);
    EXPECT_EQ(g({"info", "keep"}).exit_code, 0);
    EXPECT_EQ(g({"info", "other"}, "prune2").exit_code, 0);
    auto again = g({"prune", "--dry-run"});
    EXPECT_TRUE(contains(again.out, "0 snapshot(s) would be removed")) << again.out;
    // ctr's Cleanup reaches the same code (containerd 1.6 says Unimplemented there).
    auto bad = g({"prune"}, "");
    EXPECT_EQ(bad.exit_code, 0) << bad.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, SnapshotsGcTest, ::testing::Values("native", "overlayfs"));

} // namespace
} // namespace gantry::itest
