// Unpacking images into snapshots end to end: `ctr images import` (which drives Diff.Apply and
// Snapshots.Prepare/Commit itself) and `gantry images import`, into overlayfs and native, then
// the image's filesystem looked at through `gantry images mount` and the real `ctr images
// mount`: layer 2's whiteout removed /etc/gone, its opaque directory hid /old/a, busybox and its
// links are intact. Also: labels left on the content, re-import finding every layer present, an
// unknown snapshotter refused with nothing left behind, and image removal collecting snapshots.
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/mount.h>
#include <unistd.h>

namespace gantry::itest {
namespace {

namespace fs = std::filesystem;
constexpr const char* kImage = "docker.io/library/bartest:latest";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool is_mount_point(const fs::path& p) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string id, parent, dev, root, point;
        ls >> id >> parent >> dev >> root >> point;
        if (point == p.string()) return true;
    }
    return false;
}

// Unmounts whatever a failed test left mounted on `dir`.
struct MountGuard {
    fs::path dir;
    ~MountGuard() {
        while (is_mount_point(dir))
            if (::umount2(dir.c_str(), MNT_DETACH) != 0) break;
    }
};

std::size_t count_lines(const std::string& s, const std::string& needle = "") {
    std::size_t n = 0;
    std::istringstream in(s);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && (needle.empty() || line.find(needle) != std::string::npos)) ++n;
    return n;
}

class UnpackTest : public SharedDaemonTest<UnpackTest> {
protected:
    static void SetUpTestSuite() {
        SharedDaemonTest::SetUpTestSuite();
        archive_ = daemon_->dir() + "/bartest.tar";
        auto made = run({"python3", GANTRY_TEST_MKIMAGE, archive_});
        ASSERT_EQ(made.exit_code, 0) << made.err;
    }
    static std::string archive_;

    // The image's filesystem as mkimage.py built it, with layer 2 applied over layer 1.
    static void expect_image_tree(const fs::path& root) {
        EXPECT_EQ(slurp(root / "etc/hello"), "hello from layer 2\n");
        EXPECT_FALSE(fs::exists(fs::symlink_status(root / "etc/gone"))) << "whiteout not applied";
        EXPECT_FALSE(fs::exists(fs::symlink_status(root / "old/a"))) << "opaque dir not applied";
        EXPECT_EQ(slurp(root / "old/b"), "b\n");
        EXPECT_EQ(fs::file_size(root / "bin/busybox"), fs::file_size("/bin/busybox"));
        EXPECT_EQ(fs::status(root / "bin/busybox").permissions() & fs::perms::owner_exec,
                  fs::perms::owner_exec);
        ASSERT_TRUE(fs::is_symlink(root / "bin/sh"));
        EXPECT_EQ(fs::read_symlink(root / "bin/sh"), "busybox");
        EXPECT_TRUE(fs::is_directory(root / "tmp"));
    }
};
std::string UnpackTest::archive_;

TEST_F(UnpackTest, CtrImportUnpacksIntoOverlayAndGantryMountShowsTheImage) {
    const std::string ns = "unp-ctr";
    auto imp = d().ctr({"images", "import", archive_}, ns);
    ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
    EXPECT_TRUE(contains(imp.out, "unpacking docker.io/library/bartest:latest")) << imp.out;

    auto snaps = d().ctr({"snapshots", "ls"}, ns);
    ASSERT_EQ(snaps.exit_code, 0) << snaps.err;
    EXPECT_EQ(count_lines(snaps.out, "Committed"), 2u) << snaps.out;

    // The labels containerd's unpacker leaves: diffIDs on the layers, the top chain on the config.
    auto content = d().ctr({"content", "ls"}, ns);
    EXPECT_EQ(count_lines(content.out, "containerd.io/uncompressed=sha256:"), 2u) << content.out;
    EXPECT_EQ(count_lines(content.out, "containerd.io/gc.ref.snapshot.overlayfs=sha256:"), 1u)
        << content.out;

    const fs::path mnt = fs::path(d().dir()) / "mnt-overlay";
    fs::create_directories(mnt);
    MountGuard guard{mnt};
    auto m = d().gantry({"images", "mount", kImage, mnt.string()}, ns);
    ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
    ASSERT_TRUE(is_mount_point(mnt));
    expect_image_tree(mnt);
    // A read-only view: writing fails.
    std::ofstream(mnt / "etc/new") << "x";
    EXPECT_FALSE(fs::exists(mnt / "etc/new"));
    auto u = d().gantry({"images", "unmount", "--rm", mnt.string()}, ns);
    ASSERT_EQ(u.exit_code, 0) << u.err;
    EXPECT_FALSE(is_mount_point(mnt));
    EXPECT_EQ(d().ctr({"leases", "ls", "-q"}, ns).out, "");
}

TEST_F(UnpackTest, GantryImportUnpacksIntoNativeAndCtrMountShowsTheImage) {
    const std::string ns = "unp-native";
    auto imp = d().gantry({"images", "import", "--snapshotter", "native", archive_}, ns);
    ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
    EXPECT_TRUE(contains(imp.out, "unpacking docker.io/library/bartest:latest")) << imp.out;
    auto snaps = d().ctr({"snapshots", "--snapshotter", "native", "ls"}, ns);
    EXPECT_EQ(count_lines(snaps.out, "Committed"), 2u) << snaps.out << snaps.err;

    const fs::path mnt = fs::path(d().dir()) / "mnt-native";
    fs::create_directories(mnt);
    MountGuard guard{mnt};
    auto m =
        d().ctr({"images", "mount", "--snapshotter", "native", "--rw", kImage, mnt.string()}, ns);
    ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
    expect_image_tree(mnt);
    // --rw: an active snapshot, writable.
    std::ofstream(mnt / "etc/new") << "x";
    EXPECT_TRUE(fs::exists(mnt / "etc/new"));
    auto u = d().ctr({"images", "unmount", "--rm", mnt.string()}, ns);
    ASSERT_EQ(u.exit_code, 0) << u.err;
    EXPECT_FALSE(is_mount_point(mnt));

    // A second import finds both layers unpacked already.
    auto again = d().gantry({"images", "import", "--snapshotter", "native", archive_}, ns);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    snaps = d().ctr({"snapshots", "--snapshotter", "native", "ls"}, ns);
    EXPECT_EQ(count_lines(snaps.out, "Committed"), 2u) << snaps.out;
}

TEST_F(UnpackTest, UnknownSnapshotterIsRefusedAndLeavesNothingBehind) {
    const std::string ns = "unp-bad";
    auto imp = d().gantry({"images", "import", "--snapshotter", "nosuch", archive_}, ns);
    EXPECT_EQ(imp.exit_code, 1);
    EXPECT_TRUE(contains(imp.err, "snapshotter not loaded: nosuch")) << imp.err;
    EXPECT_EQ(count_lines(imp.err), 1u) << imp.err;
    EXPECT_EQ(d().ctr({"leases", "ls", "-q"}, ns).out, "");
}

TEST_F(UnpackTest, RemovingTheImageCollectsItsSnapshots) {
    const std::string ns = "unp-gc";
    ASSERT_EQ(d().gantry({"images", "import", archive_}, ns).exit_code, 0);
    ASSERT_EQ(count_lines(d().ctr({"snapshots", "ls"}, ns).out, "Committed"), 2u);
    ASSERT_EQ(d().ctr({"images", "rm", "--sync", kImage}, ns).exit_code, 0);
    auto snaps = d().ctr({"snapshots", "ls"}, ns);
    EXPECT_EQ(count_lines(snaps.out, "Committed"), 0u) << snaps.out;
    EXPECT_EQ(d().ctr({"content", "ls", "-q"}, ns).out, "");
}

// The whole chain a containerd user runs: import, unpack, then `ctr run --rm IMAGE` (snapshot
// prepared on the image's chain ID, container, task through each shim), nothing left after.
TEST_F(UnpackTest, CtrRunsTheImportedImage) {
    const std::string ns = "unp-run" + std::to_string(::getpid());
    ASSERT_EQ(d().ctr({"images", "import", archive_}, ns).exit_code, 0);
    for (const char* runtime : {"io.containerd.runc.v2", "io.containerd.gantry.v2"}) {
        auto r = d().ctr({"run", "--rm", "--runtime", runtime, kImage, "img-run", "sh", "-c",
                          "cat /etc/hello; test ! -e /etc/gone && echo whiteout-ok"},
                         ns);
        EXPECT_EQ(r.exit_code, 0) << runtime << ": " << r.err;
        EXPECT_EQ(r.out, "hello from layer 2\nwhiteout-ok\n") << runtime;
    }
    auto snaps = d().ctr({"snapshots", "ls"}, ns);
    EXPECT_FALSE(contains(snaps.out, "img-run")) << snaps.out;
    EXPECT_EQ(d().ctr({"containers", "ls", "-q"}, ns).out, "");
}

// `gantry run`: the same chain from one command, with the default spec (seccomp filter,
// no_new_privileges), the image's environment plus --env, stdin, exit codes, -d, and errors.
TEST_F(UnpackTest, GantryRunRunsTheImage) {
    const std::string ns = "unp-grun" + std::to_string(::getpid());
    ASSERT_EQ(d().gantry({"images", "import", archive_}, ns).exit_code, 0);
    auto r = d().gantry({"run", "--rm", "--env", "FOO=bar", kImage, "gr1", "sh", "-c",
                         "echo $FOO $PATH; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; "
                         "echo to-err >&2; exit 3"},
                        ns);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(r.out, "bar /bin\nNoNewPrivs:\t1\nSeccomp:\t2\n");
    EXPECT_EQ(r.err, "to-err\n");
    for (const char* runtime : {"io.containerd.runc.v2", "io.containerd.gantry.v2"}) {
        auto in = run({"sh", "-c",
                       "echo piped | " + bin("gantry") + " --address " + d().socket() + " -n " +
                           ns + " run --rm --runtime " + runtime + " " + kImage + " gr2 cat"});
        EXPECT_EQ(in.exit_code, 0) << runtime << ": " << in.err;
        EXPECT_EQ(in.out, "piped\n") << runtime;
    }
    ASSERT_EQ(d().gantry({"run", "-d", kImage, "gr3", "sleep", "100"}, ns).exit_code, 0);
    EXPECT_TRUE(contains(d().gantry({"tasks", "ls"}, ns).out, "RUNNING"));
    EXPECT_EQ(d().gantry({"tasks", "rm", "-f", "gr3"}, ns).exit_code, 0);
    EXPECT_EQ(d().gantry({"containers", "rm", "gr3"}, ns).exit_code, 0);

    auto missing = d().gantry({"run", "--rm", "docker.io/library/nosuch:1", "gr4"}, ns);
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_TRUE(contains(missing.err, "not found")) << missing.err;
    auto bad_cmd = d().gantry({"run", "--rm", kImage, "gr5", "/no/such/binary"}, ns);
    EXPECT_NE(bad_cmd.exit_code, 0);
    EXPECT_TRUE(contains(bad_cmd.err, "no such file or directory")) << bad_cmd.err;
    auto bad_mount =
        d().gantry({"run", "--rm", "--mount", "type=bind,src=/etc", kImage, "gr6"}, ns);
    EXPECT_EQ(bad_mount.exit_code, 1);
    EXPECT_TRUE(contains(bad_mount.err, "dst must be an absolute path")) << bad_mount.err;
    EXPECT_EQ(d().ctr({"containers", "ls", "-q"}, ns).out, "");
    EXPECT_EQ(d().ctr({"task", "ls", "-q"}, ns).out, "");
}

} // namespace
} // namespace gantry::itest
