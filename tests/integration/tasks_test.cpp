// Tasks through gantryd with real runtimes: the real `ctr run` (rootfs given as a directory, so
// these tests need no snapshotter), containerd-shim-runc-v2 driving runc, and the lifecycle
// verbs: -d, exec, ps, pause/resume, metrics, kill, rm, --tty. Bad input: unknown runtimes,
// missing shims, shims that die or print garbage, commands runc refuses, a second start, a
// duplicate exec id; each a clear error with no bundle, mount or process left. Restart: SIGKILL
// gantryd while a container runs; the new daemon reconnects to its shim, and a shim that died
// meanwhile is cleaned up.
#include "tests/integration/both_shims.hpp"
#include "tests/integration/harness.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace gantry::itest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1))
        ++n;
    return n;
}

// Every test runs once per shim: containerd's own (io.containerd.runc.v2) and Gantry's
// (io.containerd.gantry.v2, containerd-shim-gantry-v2 found beside gantryd).
class TasksTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        rootfs_ = d_.dir() + "/rootfs";
        for (const char* dir : {"bin", "proc", "dev", "sys", "tmp", "etc"})
            fs::create_directories(fs::path(rootfs_) / dir);
        fs::copy_file("/bin/busybox", fs::path(rootfs_) / "bin/busybox");
        for (const char* app : {"sh", "echo", "true", "cat", "sleep", "ls"})
            fs::create_symlink("busybox", fs::path(rootfs_) / "bin" / app);
        // runc keeps its state per namespace under /run/containerd/runc/<ns>: one namespace per
        // test run keeps parallel test binaries apart.
        ns_ = "tk" + std::to_string(::getpid());
    }
    void TearDown() override {
        // Whatever a failed test left running.
        auto ls = d_.ctr({"task", "ls", "-q"}, ns_);
        std::istringstream in(ls.out);
        std::string id;
        while (std::getline(in, id)) {
            if (id.empty()) continue;
            d_.ctr({"task", "kill", "-s", "SIGKILL", id}, ns_);
            std::this_thread::sleep_for(200ms);
            d_.ctr({"task", "rm", "-f", id}, ns_);
        }
        auto cs = d_.ctr({"containers", "ls", "-q"}, ns_);
        std::istringstream cin(cs.out);
        while (std::getline(cin, id))
            if (!id.empty()) d_.ctr({"containers", "rm", id}, ns_);
    }
    Output ctr(std::vector<std::string> args) { return d_.ctr(std::move(args), ns_); }
    Output run_rm(const std::string& id, std::vector<std::string> cmd) {
        std::vector<std::string> args{"run",      "--rm",  "--runtime", GetParam(),
                                      "--rootfs", rootfs_, id};
        args.insert(args.end(), cmd.begin(), cmd.end());
        return ctr(args);
    }
    std::string bundles() const { return d_.state() + "/io.containerd.runtime.v2.task/" + ns_; }
    bool nothing_left() const {
        std::error_code ec;
        if (fs::exists(bundles(), ec) && !fs::is_empty(bundles(), ec)) return false;
        std::ifstream mounts("/proc/self/mountinfo");
        std::stringstream ss;
        ss << mounts.rdbuf();
        return ss.str().find(bundles()) == std::string::npos;
    }

    Daemon d_;
    std::string rootfs_;
    std::string ns_;
};

TEST_P(TasksTest, RunRmPrintsOutputAndPropagatesExitCodes) {
    auto r = run_rm("echo1", {"/bin/echo", "hello from gantry"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello from gantry\n");
    r = run_rm("exit3", {"/bin/sh", "-c", "echo to-stderr >&2; exit 3"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_TRUE(contains(r.err, "to-stderr")) << r.err;
    EXPECT_EQ(ctr({"containers", "ls", "-q"}).out, "");
    EXPECT_TRUE(nothing_left());
}

// stdin that the client wrote before CloseIO reaches the container whole, even when it is more
// than the container's stdin pipe holds (64 KiB): CloseIO must not drop what is still buffered.
TEST_P(TasksTest, StdinIsDeliveredWholeBeforeEof) {
    for (int i = 0; i < 5; ++i) {
        const std::string id = "stdin" + std::to_string(i);
        auto r = run({"/bin/sh", "-c",
                      "head -c 300000 /dev/zero | ctr --address " + d_.socket() + " -n " + ns_ +
                          " run --rm --runtime " + GetParam() + " --rootfs " + rootfs_ + " " + id +
                          " /bin/busybox wc -c"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "300000\n") << "run " << i;
    }
    EXPECT_TRUE(nothing_left());
}

TEST_P(TasksTest, DetachedTaskLifecycle) {
    auto r = ctr(
        {"run", "-d", "--runtime", GetParam(), "--rootfs", rootfs_, "life", "/bin/sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto ls = ctr({"task", "ls"});
    EXPECT_TRUE(contains(ls.out, "life")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "RUNNING")) << ls.out;

    auto ex = ctr({"task", "exec", "--exec-id", "e1", "life", "/bin/echo", "exec-ok"});
    EXPECT_EQ(ex.exit_code, 0) << ex.err;
    EXPECT_EQ(ex.out, "exec-ok\n");
    auto bg = ctr({"task", "exec", "-d", "--exec-id", "e2", "life", "/bin/sleep", "100"});
    EXPECT_EQ(bg.exit_code, 0) << bg.err;
    auto dup = ctr({"task", "exec", "-d", "--exec-id", "e2", "life", "/bin/true"});
    EXPECT_NE(dup.exit_code, 0);
    EXPECT_TRUE(contains(dup.err, "already exists")) << dup.err;
    auto bad_id = ctr({"task", "exec", "--exec-id", "bad id!", "life", "/bin/true"});
    EXPECT_NE(bad_id.exit_code, 0);
    EXPECT_TRUE(contains(bad_id.err, "invalid")) << bad_id.err;

    auto ps = ctr({"task", "ps", "life"});
    EXPECT_EQ(ps.exit_code, 0) << ps.err;
    EXPECT_GE(count(ps.out, "\n"), 3u) << ps.out; // header, init, exec e2

    ASSERT_EQ(ctr({"task", "pause", "life"}).exit_code, 0);
    EXPECT_TRUE(contains(ctr({"task", "ls"}).out, "PAUSED"));
    ASSERT_EQ(ctr({"task", "resume", "life"}).exit_code, 0);
    EXPECT_TRUE(contains(ctr({"task", "ls"}).out, "RUNNING"));

    auto m = ctr({"task", "metrics", "life"});
    EXPECT_EQ(m.exit_code, 0) << m.err;
    EXPECT_TRUE(contains(m.out, "memory.usage_in_bytes")) << m.out;

    auto again = ctr({"task", "start", "life"});
    EXPECT_NE(again.exit_code, 0);

    ASSERT_EQ(ctr({"task", "kill", "-a", "-s", "SIGKILL", "life"}).exit_code, 0);
    for (int i = 0; i < 50 && !contains(ctr({"task", "ls"}).out, "STOPPED"); ++i)
        std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(contains(ctr({"task", "ls"}).out, "STOPPED"));
    auto rm = ctr({"task", "rm", "life"});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(ctr({"task", "ls", "-q"}).out, "");
    ASSERT_EQ(ctr({"containers", "rm", "life"}).exit_code, 0);
    EXPECT_TRUE(nothing_left());
}

TEST_P(TasksTest, TtyRun) {
    auto r = run({"script", "-qec",
                  "ctr --address " + d_.socket() + " -n " + ns_ + " run --rm -t --runtime " +
                      GetParam() + " --rootfs " + rootfs_ +
                      " tty1 /bin/sh -c 'test -t 0 && echo is-a-tty; exit 4'",
                  "/dev/null"});
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "is-a-tty")) << r.out;
}

TEST_P(TasksTest, BadRuntimesAndCommandsFailClearlyAndLeakNothing) {
    auto r = ctr({"run", "--rm", "--runtime", "io.containerd.nosuch.v1", "--rootfs", rootfs_,
                  "bad1", "/bin/true"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "containerd-shim-nosuch-v1 not found")) << r.err;

    // A "shim" that prints garbage instead of an address, and one that dies at start.
    const std::string garbage = d_.dir() + "/garbage-shim";
    std::ofstream(garbage) << "#!/bin/sh\necho 'this is not an address'\n";
    fs::permissions(garbage, fs::perms::owner_all);
    r = ctr({"run", "--rm", "--runtime", garbage, "--rootfs", rootfs_, "bad2", "/bin/true"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "this is not an address")) << r.err;
    const std::string dies = d_.dir() + "/dying-shim";
    std::ofstream(dies) << "#!/bin/sh\necho 'cannot start: out of luck' >&2\nexit 1\n";
    fs::permissions(dies, fs::perms::owner_all);
    r = ctr({"run", "--rm", "--runtime", dies, "--rootfs", rootfs_, "bad3", "/bin/true"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "out of luck")) << r.err;

    // runc refuses a command that does not exist.
    r = run_rm("bad4", {"/no/such/binary"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "no such file or directory")) << r.err;

    EXPECT_EQ(ctr({"task", "ls", "-q"}).out, "");
    EXPECT_TRUE(nothing_left());
}

// `--runc-binary crun` through gantryd: crun runs the container, or (on this kind of host, whose
// cgroups are hybrid) refuses in its own words, which reach the user, and nothing is left.
TEST_P(TasksTest, CrunRunsOrSaysWhyNot) {
    if (::access("/usr/bin/crun", X_OK) != 0) GTEST_SKIP() << "crun not installed";
    // ctr takes --runc-binary for containerd's runc shim only; our shim reads BinaryName from
    // the runtime config file, as under containerd.
    std::vector<std::string> args{"run", "--rm", "--runtime", GetParam()};
    if (GetParam() == "io.containerd.runc.v2") {
        args.insert(args.end(), {"--runc-binary", "/usr/bin/crun"});
    } else {
        const std::string cfg = d_.dir() + "/crun.toml";
        std::ofstream(cfg) << "BinaryName = \"/usr/bin/crun\"\n";
        args.insert(args.end(), {"--runtime-config-path", cfg});
    }
    args.insert(args.end(), {"--rootfs", rootfs_, "crun1", "/bin/echo", "hello from crun"});
    auto r = ctr(args);
    if (r.exit_code == 0) {
        EXPECT_EQ(r.out, "hello from crun\n");
    } else {
        EXPECT_TRUE(contains(r.err, "OCI runtime create failed")) << r.err;
        std::ifstream in("/proc/self/mountinfo");
        std::stringstream mi;
        mi << in.rdbuf();
        if (contains(mi.str(), " - cgroup2 ") && contains(mi.str(), " - cgroup "))
            EXPECT_TRUE(contains(r.err, "cgroups in hybrid mode not supported")) << r.err;
        ctr({"containers", "rm", "crun1"});
    }
    EXPECT_EQ(ctr({"containers", "ls", "-q"}).out, "");
    EXPECT_TRUE(nothing_left());
}

TEST_P(TasksTest, TaskSurvivesDaemonSigkillAndDeadShimIsCleanedUp) {
    ASSERT_EQ(ctr({"run", "-d", "--runtime", GetParam(), "--rootfs", rootfs_, "keep", "/bin/sleep",
                   "1000"})
                  .exit_code,
              0);
    ASSERT_EQ(ctr({"run", "-d", "--runtime", GetParam(), "--rootfs", rootfs_, "lose", "/bin/sleep",
                   "1000"})
                  .exit_code,
              0);
    auto lose_ps = ctr({"task", "ls"});
    d_.kill9();
    // While gantryd is down, the shim of "lose" dies with its container.
    auto out = run(
        {"sh", "-c", "cat " + bundles() + "/lose/init.pid; echo; pgrep -f 'id lose' | head -1"});
    std::istringstream in(out.out);
    std::string init_pid, shim_pid;
    in >> init_pid >> shim_pid;
    ASSERT_FALSE(shim_pid.empty()) << out.out << out.err;
    ::kill(std::stoi(shim_pid), SIGKILL);
    ::kill(std::stoi(init_pid), SIGKILL);
    ASSERT_TRUE(d_.start());

    auto ls = ctr({"task", "ls"});
    EXPECT_TRUE(contains(ls.out, "keep")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "RUNNING")) << ls.out;
    EXPECT_FALSE(contains(ls.out, "lose")) << ls.out;
    EXPECT_FALSE(fs::exists(bundles() + "/lose"));

    ASSERT_EQ(ctr({"task", "kill", "-s", "SIGKILL", "keep"}).exit_code, 0);
    for (int i = 0; i < 50 && !contains(ctr({"task", "ls"}).out, "STOPPED"); ++i)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(ctr({"task", "rm", "keep"}).exit_code, 0);
    EXPECT_TRUE(nothing_left());
}

// `gantry tasks` prints what `ctr task` prints, byte for byte, and controls tasks the same way.
TEST_P(TasksTest, GantryTasksCliMatchesCtr) {
    ASSERT_EQ(ctr({"run", "-d", "--runtime", GetParam(), "--rootfs", rootfs_, "cli1", "/bin/sleep",
                   "1000"})
                  .exit_code,
              0);
    ASSERT_EQ(ctr({"task", "exec", "-d", "--exec-id", "x1", "cli1", "/bin/sleep", "100"}).exit_code,
              0);
    auto gantry = [&](std::vector<std::string> args) { return d_.gantry(std::move(args), ns_); };
    EXPECT_EQ(gantry({"tasks", "ls"}).out, ctr({"task", "ls"}).out);
    EXPECT_EQ(gantry({"tasks", "ls", "-q"}).out, "cli1\n");
    EXPECT_EQ(gantry({"tasks", "ps", "cli1"}).out, ctr({"task", "ps", "cli1"}).out);
    ASSERT_EQ(gantry({"tasks", "pause", "cli1"}).exit_code, 0);
    EXPECT_TRUE(contains(ctr({"task", "ls"}).out, "PAUSED"));
    ASSERT_EQ(gantry({"tasks", "resume", "cli1"}).exit_code, 0);
    auto m = gantry({"tasks", "metrics", "cli1"});
    EXPECT_EQ(m.exit_code, 0) << m.err;
    EXPECT_TRUE(contains(m.out, "METRIC")) << m.out;
    auto running = gantry({"tasks", "rm", "cli1"});
    EXPECT_EQ(running.exit_code, 1);
    EXPECT_EQ(running.err, "gantry: cli1: task must be stopped before deletion: running\n");
    auto bad = gantry({"tasks", "kill", "-s", "BOGUS", "cli1"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(bad.err, "gantry: invalid signal SIGBOGUS\n");
    auto gone = gantry({"tasks", "kill", "nosuch"});
    EXPECT_EQ(gone.exit_code, 1);
    EXPECT_TRUE(contains(gone.err, "not found")) << gone.err;
    auto forced = gantry({"tasks", "rm", "-f", "cli1"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_EQ(gantry({"tasks", "ls", "-q"}).out, "");
    ASSERT_EQ(ctr({"containers", "rm", "cli1"}).exit_code, 0);
    EXPECT_TRUE(nothing_left());
}

GANTRY_INSTANTIATE_FOR_BOTH_SHIMS(TasksTest);

} // namespace
} // namespace gantry::itest
