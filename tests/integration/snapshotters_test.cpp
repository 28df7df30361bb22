// The snapshotter plugins in a real gantryd, as the real `ctr` sees them: both load on a
// filesystem that hosts overlay, overlayfs skips (with its reason) on one that cannot, and its
// config section is checked.
#include "tests/integration/harness.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <sys/mount.h>

namespace gantry::itest {
namespace {

TEST(Snapshotters, NativeAndOverlayfsLoad) {
    Daemon d;
    ASSERT_GT(d.pid(), 0) << d.log();
    auto ls = d.ctr({"plugins", "ls", "type==io.containerd.snapshotter.v1"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    for (const char* id : {"native", "overlayfs"}) {
        auto line_start = ls.out.find(id);
        ASSERT_NE(line_start, std::string::npos) << id << "\n" << ls.out;
        auto line = ls.out.substr(line_start, ls.out.find('\n', line_start) - line_start);
        EXPECT_TRUE(contains(line, "ok")) << line;
    }
    auto detail = d.ctr({"plugins", "ls", "-d", "id==overlayfs"});
    EXPECT_TRUE(contains(detail.out, d.root() + "/io.containerd.snapshotter.v1.overlayfs"))
        << detail.out;
    EXPECT_TRUE(std::filesystem::is_directory(d.root() +
                                              "/io.containerd.snapshotter.v1.overlayfs/snapshots"));
    EXPECT_TRUE(
        std::filesystem::is_directory(d.root() + "/io.containerd.snapshotter.v1.native/snapshots"));
}

TEST(Snapshotters, OverlayfsSkipsWhenRootIsOnOverlay) {
    Daemon d(Daemon::Options{.start_now = false});
    // The daemon's root is itself an overlay mount: no upper dir can live there.
    namespace stdfs = std::filesystem;
    for (const char* sub : {"lower", "upper", "work"})
        stdfs::create_directories(d.dir() + "/" + sub);
    stdfs::create_directories(d.root());
    std::string opts = "lowerdir=" + d.dir() + "/lower,upperdir=" + d.dir() +
                       "/upper,workdir=" + d.dir() + "/work";
    ASSERT_EQ(::mount("overlay", d.root().c_str(), "overlay", 0, opts.c_str()), 0);
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{d.root()};
    ASSERT_TRUE(d.start()) << d.log();
    auto detail = d.ctr({"plugins", "ls", "-d", "id==overlayfs"});
    ASSERT_EQ(detail.exit_code, 0) << detail.err;
    EXPECT_TRUE(contains(detail.out, "skip")) << detail.out;
    EXPECT_TRUE(contains(detail.out, "overlay cannot be mounted")) << detail.out;
    auto native = d.ctr({"plugins", "ls", "id==native"});
    EXPECT_TRUE(contains(native.out, "ok")) << native.out;
    d.stop();
}

TEST(Snapshotters, OverlayfsConfig) {
    Daemon good(Daemon::Options{
        .config_text = "version = 2\n[plugins.\"io.containerd.snapshotter.v1.overlayfs\"]\n"
                       "upperdir_label = true\n"});
    ASSERT_GT(good.pid(), 0) << good.log();
    auto ls = good.ctr({"plugins", "ls", "id==overlayfs"});
    EXPECT_TRUE(contains(ls.out, "ok")) << ls.out;

    Daemon bad(Daemon::Options{
        .config_text = "version = 2\n[plugins.\"io.containerd.snapshotter.v1.overlayfs\"]\n"
                       "upperdir_labl = true\n",
        .wait_ready = false});
    auto code = bad.wait_exit(std::chrono::seconds(10));
    ASSERT_TRUE(code.has_value());
    EXPECT_NE(*code, 0);
    EXPECT_TRUE(contains(bad.log(), "unknown key \"upperdir_labl\"")) << bad.log();
}

} // namespace
} // namespace gantry::itest
