// The native snapshotter runs the whole conformance suite.
#include "snapshotters/native/native.hpp"
#include "snapshotters/testsuite/testsuite.hpp"

GANTRY_SNAPSHOTTER_TESTSUITE(Native, gantry::snapshots::native::open)

#include "core/mount/mount.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

namespace gantry::snapshots::native {
namespace {

namespace stdfs = std::filesystem;

// Leftovers of a crash (a half-built new-*, an rm-* whose delete was cut short, a directory whose
// record was never committed) go in cleanup(); a mount found inside one is undone first, never
// deleted through.
TEST(NativeCleanup, RemovesCrashLeftoversButNotThroughMounts) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    std::string pattern = "/var/tmp/gantry-native-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    stdfs::path dir = pattern;
    auto sn = open(dir / "root");
    ASSERT_TRUE(sn.ok());
    ASSERT_TRUE((*sn)->prepare("live", "", {}).ok());
    auto snaps = dir / "root" / "snapshots";
    std::vector<std::string> names;
    for (const auto& e : stdfs::directory_iterator(snaps))
        names.push_back(e.path().filename());
    ASSERT_EQ(names.size(), 1u);
    for (const char* junk : {"new-abc123", "rm-7", "999", "0017"})
        stdfs::create_directories(snaps / junk / "sub");
    // Someone's data bind-mounted inside an orphan must survive the cleanup.
    auto precious = dir / "precious";
    stdfs::create_directories(precious);
    std::ofstream(precious / "keep") << "k";
    ASSERT_TRUE(
        mount::mount({"bind", precious.string(), "", {"rbind"}}, snaps / "999" / "sub").ok());

    ASSERT_TRUE((*sn)->cleanup().ok());
    std::vector<std::string> after;
    for (const auto& e : stdfs::directory_iterator(snaps))
        after.push_back(e.path().filename());
    EXPECT_EQ(after, names);
    EXPECT_TRUE(stdfs::exists(precious / "keep"));
    auto mps = mount::mount_points_under(dir);
    ASSERT_TRUE(mps.ok());
    EXPECT_TRUE(mps->empty());
    EXPECT_TRUE((*sn)->mounts("live").ok());
    for (const auto& mp : *mps)
        ::umount2(mp.c_str(), MNT_DETACH);
    sn->reset();
    stdfs::remove_all(dir);
}

} // namespace
} // namespace gantry::snapshots::native
