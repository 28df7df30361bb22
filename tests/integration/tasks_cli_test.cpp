// `gantry tasks start|exec|attach` and image users given by name, against a real gantryd with
// real runc, once per shim (io.containerd.runc.v2 and io.containerd.gantry.v2):
// - start: containers made by `ctr containers create` and by `gantry run -d`; output, stdin,
//   exit codes, a terminal, signals forwarded, --pid-file, --null-io, --log-uri; -d then attach
//   sees the output and the exit code and removes the FIFOs.
// - exec: output, stdin, exit code, --cwd/--env, flags and subcommand names after CMD belonging
//   to CMD, a terminal with its size forwarded, a duplicate exec id (one line, exit 1), no
//   process left after an exec ends or fails.
// - users: the image's User and --user by name, uid, user:group, uid:group, user:gid resolved
//   from the image's /etc/passwd and /etc/group with supplementary groups, matching what `ctr
//   run` gives; unknown users and groups fail with one line and leave no container, snapshot or
//   mount; hostile images whose /etc/passwd is an absolute symlink (to itself, or to a path the
//   host also has) or whose /etc/group climbs out with "..": resolved inside the image only.
#include "tests/integration/both_shims.hpp"
#include "tests/integration/harness.hpp"

#include <algorithm>
#include <chrono>
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

constexpr const char* kBusybox = "docker.io/library/bartest:latest";
constexpr const char* kRootImage = "docker.io/library/usertest:root";   // no User
constexpr const char* kAppImage = "docker.io/library/usertest:app";     // User "app"
constexpr const char* kLoopImage = "docker.io/library/usertest:loop";   // /etc/passwd -> itself
constexpr const char* kDecoyImage = "docker.io/library/usertest:decoy"; // escapes to the host

std::size_t count_lines(const std::string& s) {
    std::size_t n = 0;
    for (char c : s)
        n += c == '\n';
    return n;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Mounts whose description mentions `needle` (a daemon's root: overlay lowerdirs name it).
std::size_t mounts_mentioning(const std::string& needle) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line))
        n += line.find(needle) != std::string::npos;
    return n;
}

std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

class TasksCliTest : public ::testing::TestWithParam<std::string> {
protected:
    static void SetUpTestSuite() {
        daemon_ = std::make_unique<Daemon>();
        ns_ = "tcli" + std::to_string(::getpid());
        const std::string dir = daemon_->dir();
        // The host side of the decoy: files at the very paths the hostile image points at.
        decoy_ = dir + "/decoy";
        fs::create_directories(decoy_);
        std::ofstream(decoy_ + "/passwd") << "app:x:6666:6666::/:/bin/sh\n";
        std::ofstream(decoy_ + "/group") << "appgrp:x:6666:\nextra:x:7777:app\n";
        struct Image {
            std::string archive;
            std::vector<std::string> args;
        };
        const std::string mk = GANTRY_TEST_SOURCE_DIR "/mkuserimage.py";
        const std::vector<Image> images = {
            {dir + "/bar.tar", {"python3", GANTRY_TEST_MKIMAGE, dir + "/bar.tar"}},
            {dir + "/root.tar", {"python3", mk, dir + "/root.tar", kRootImage, "", "plain"}},
            {dir + "/app.tar", {"python3", mk, dir + "/app.tar", kAppImage, "app", "plain"}},
            {dir + "/loop.tar",
             {"python3", mk, dir + "/loop.tar", kLoopImage, "daemon", "selfloop"}},
            {dir + "/decoy.tar",
             {"python3", mk, dir + "/decoy.tar", kDecoyImage, "app", "decoy", decoy_}},
        };
        for (const auto& img : images) {
            auto made = run(img.args);
            ASSERT_EQ(made.exit_code, 0) << made.err;
            auto imported = daemon_->gantry({"images", "import", img.archive}, ns_);
            ASSERT_EQ(imported.exit_code, 0) << imported.err;
        }
    }
    static void TearDownTestSuite() { daemon_.reset(); }

    void TearDown() override {
        // Whatever a failed test left: tasks, then containers with their snapshots.
        std::istringstream tasks(d().ctr({"task", "ls", "-q"}, ns_).out);
        std::string id;
        while (std::getline(tasks, id)) {
            if (id.empty()) continue;
            d().ctr({"task", "kill", "-a", "-s", "SIGKILL", id}, ns_);
            std::this_thread::sleep_for(200ms);
            d().ctr({"task", "rm", "-f", id}, ns_);
        }
        std::istringstream cs(d().ctr({"containers", "ls", "-q"}, ns_).out);
        while (std::getline(cs, id))
            if (!id.empty()) d().ctr({"containers", "rm", id}, ns_);
    }

    static Daemon& d() { return *daemon_; }
    Output gantry(std::vector<std::string> args) const { return d().gantry(std::move(args), ns_); }
    Output ctr(std::vector<std::string> args) const { return d().ctr(std::move(args), ns_); }
    // A shell command line for `gantry ...` against this daemon and namespace.
    std::string gantry_cmd(const std::string& args) const {
        return bin("gantry") + " --address " + d().socket() + " -n " + ns_ + " " + args;
    }
    // Under a pseudo-terminal of 77x22 columns and rows, as an interactive user would run it.
    Output in_terminal(const std::string& cmdline) const {
        return run({"script", "-qec", "stty cols 77 rows 22; " + cmdline, "/dev/null"});
    }
    // `ctr containers create` on an image, for this test's shim.
    void create(const std::string& id, const std::string& cmd, bool tty = false) const {
        std::vector<std::string> args{"containers", "create"};
        if (tty) args.push_back("--tty");
        args.insert(args.end(), {"--runtime", GetParam(), kBusybox, id, "--", "sh", "-c", cmd});
        auto r = ctr(args);
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    // `gantry run -d` for this test's shim.
    void run_detached(const std::string& image, const std::string& id,
                      std::vector<std::string> cmd) const {
        std::vector<std::string> args{"run", "-d", "--runtime", GetParam(), image, id};
        args.insert(args.end(), cmd.begin(), cmd.end());
        auto r = gantry(args);
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    bool wait_for_status(const std::string& id, const std::string& status) const {
        for (int i = 0; i < 100; ++i) {
            auto ls = gantry({"tasks", "ls"}).out;
            std::istringstream in(ls);
            std::string line;
            while (std::getline(in, line))
                if (line.rfind(id + " ", 0) == 0 && contains(line, status)) return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }

    static inline std::unique_ptr<Daemon> daemon_;
    static inline std::string ns_;
    static inline std::string decoy_;
};

constexpr const char* kIds = "id -u; id -g; id -G";

TEST_P(TasksCliTest, StartRunsACreatedContainerWithStdioAndExitCode) {
    create("st1", "echo out; echo err >&2; read line; echo got $line; exit 7");
    auto r = run({"sh", "-c", "echo hello | " + gantry_cmd("tasks start st1")});
    EXPECT_EQ(r.exit_code, 7) << r.err;
    EXPECT_EQ(r.out, "out\ngot hello\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_EQ(gantry({"tasks", "ls", "-q"}).out, "") << "the task is deleted after it exits";
    // The container stays, and starts again.
    auto again = gantry({"tasks", "start", "st1"});
    EXPECT_EQ(again.exit_code, 7) << again.err;
    EXPECT_EQ(again.out, "out\ngot\n");

    // A container gantry made: `run -d` started it; once stopped and deleted, start runs it again.
    run_detached(kBusybox, "st2", {"sh", "-c", "echo from-gantry-container; exit 3"});
    ASSERT_TRUE(wait_for_status("st2", "STOPPED"));
    ASSERT_EQ(gantry({"tasks", "rm", "st2"}).exit_code, 0);
    auto gr = gantry({"tasks", "start", "st2"});
    EXPECT_EQ(gr.exit_code, 3) << gr.err;
    EXPECT_EQ(gr.out, "from-gantry-container\n");
}

// `gantry containers create` makes what `gantry tasks start` runs; its errors are one line and
// leave nothing; `containers rm` takes the snapshot with the record.
TEST_P(TasksCliTest, GantryContainersCreateThenStart) {
    auto c = gantry({"containers", "create", "--runtime", GetParam(), "--env", "WHO=gantry",
                     kBusybox, "gc1", "sh", "-c", "echo made by $WHO; exit 4"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "");
    EXPECT_EQ(gantry({"tasks", "ls", "-q"}).out, "") << "create makes no task";
    auto dup = gantry({"containers", "create", "--runtime", GetParam(), kBusybox, "gc1"});
    EXPECT_EQ(dup.exit_code, 1);
    EXPECT_TRUE(contains(dup.err, "already exists")) << dup.err;
    EXPECT_EQ(std::count(dup.err.begin(), dup.err.end(), '\n'), 1) << dup.err;

    auto s = gantry({"tasks", "start", "gc1"});
    EXPECT_EQ(s.exit_code, 4) << s.err;
    EXPECT_EQ(s.out, "made by gantry\n");

    auto bad = gantry({"containers", "create", "no.such/image:1", "gc2"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
    EXPECT_EQ(gantry({"containers", "ls", "-q"}).out, "gc1\n");

    ASSERT_EQ(gantry({"containers", "rm", "gc1"}).exit_code, 0);
    EXPECT_EQ(gantry({"containers", "ls", "-q"}).out, "");
    EXPECT_FALSE(contains(gantry({"snapshots", "ls"}).out, "gc1"));
}

TEST_P(TasksCliTest, StartForwardsSignalsWritesPidFileAndHonoursNullIoAndLogUri) {
    create("sig1", "trap 'echo got-term; exit 9' TERM; echo ready; while true; do sleep 0.1; done");
    const std::string dir = d().dir() + "/sig-" + GetParam();
    fs::create_directories(dir);
    auto r = run({"sh", "-c",
                  gantry_cmd("tasks start --pid-file " + dir + "/pid sig1") + " > " + dir +
                      "/out & p=$!; for i in $(seq 100); do grep -q ready " + dir +
                      "/out && break; sleep 0.1; done; kill -TERM $p; wait $p; echo rc=$?"});
    EXPECT_EQ(r.out, "rc=9\n") << r.err;
    EXPECT_EQ(slurp(dir + "/out"), "ready\ngot-term\n");
    const std::string pid = slurp(dir + "/pid");
    EXPECT_FALSE(pid.empty());
    EXPECT_EQ(pid.find_first_not_of("0123456789"), std::string::npos) << pid;

    create("null1", "echo to-nowhere; exit 2");
    auto n = gantry({"tasks", "start", "--null-io", "null1"});
    EXPECT_EQ(n.exit_code, 2) << n.err;
    EXPECT_EQ(n.out, "");

    create("log1", "echo to-log; exit 0");
    const std::string log = dir + "/task.log";
    auto l = gantry({"tasks", "start", "--log-uri", "file://" + log, "log1"});
    EXPECT_EQ(l.exit_code, 0) << l.err;
    EXPECT_EQ(l.out, "");
    EXPECT_EQ(slurp(log), "to-log\n");
}

TEST_P(TasksCliTest, StartErrorsAreOneLineAndLeaveRunningTasksAlone) {
    auto missing = gantry({"tasks", "start", "nosuch"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(count_lines(missing.err), 1u) << missing.err;
    EXPECT_TRUE(contains(missing.err, "not found")) << missing.err;

    create("busy1", "sleep 1000");
    ASSERT_EQ(
        gantry({"tasks", "start", "-d", "--fifo-dir", d().dir() + "/fifo", "busy1"}).exit_code, 0);
    auto twice = gantry({"tasks", "start", "busy1"});
    EXPECT_EQ(twice.exit_code, 1);
    EXPECT_EQ(count_lines(twice.err), 1u) << twice.err;
    EXPECT_TRUE(contains(twice.err, "already exists")) << twice.err;
    EXPECT_TRUE(wait_for_status("busy1", "RUNNING")) << "a refused start must not touch the task";

    create("tty0", "true", true);
    auto both = gantry({"tasks", "start", "--null-io", "tty0"});
    EXPECT_EQ(both.exit_code, 1);
    EXPECT_EQ(both.err, "gantry: tty and null-io cannot be used together\n");
    EXPECT_EQ(gantry({"tasks", "ls", "-q"}).out, "busy1\n");
}

TEST_P(TasksCliTest, DetachedStartThenAttachSeesOutputAndExitCode) {
    create("att1", "sleep 2; echo late-out; echo late-err >&2; exit 5");
    const std::string fifo_dir = d().dir() + "/fifo-" + GetParam();
    auto s = gantry({"tasks", "start", "-d", "--fifo-dir", fifo_dir, "att1"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_EQ(s.out, "");
    ASSERT_TRUE(wait_for_status("att1", "RUNNING"));
    // The FIFOs stay for attach: one private directory with the three of them.
    ASSERT_EQ(std::distance(fs::directory_iterator(fifo_dir), fs::directory_iterator()), 1);
    const fs::path set = fs::directory_iterator(fifo_dir)->path();
    EXPECT_TRUE(fs::is_fifo(set / "att1-stdout"));

    auto a = gantry({"tasks", "attach", "att1"});
    EXPECT_EQ(a.exit_code, 5) << a.err;
    EXPECT_EQ(a.out, "late-out\n");
    EXPECT_EQ(a.err, "late-err\n");
    EXPECT_EQ(gantry({"tasks", "ls", "-q"}).out, "") << "attach deletes the task when it exits";
    EXPECT_FALSE(fs::exists(set)) << "and removes its FIFOs";

    auto none = gantry({"tasks", "attach", "att1"});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_EQ(count_lines(none.err), 1u) << none.err;
    EXPECT_TRUE(contains(none.err, "no running task found")) << none.err;
}

// The FIFOs are found through Tasks.Get, so attach works across clients: gantry attaches to a
// task `ctr run -d` started, and ctr attaches to one `gantry tasks start -d` started.
TEST_P(TasksCliTest, AttachInteroperatesWithCtr) {
    auto c = ctr({"run", "-d", "--runtime", GetParam(), kBusybox, "ia1", "sh", "-c",
                  "sleep 2; echo from-ctr-run; exit 3"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    auto a = gantry({"tasks", "attach", "ia1"});
    EXPECT_EQ(a.exit_code, 3) << a.err;
    EXPECT_EQ(a.out, "from-ctr-run\n");

    create("ia2", "sleep 2; echo from-gantry-start; exit 4");
    ASSERT_EQ(
        gantry({"tasks", "start", "-d", "--fifo-dir", d().dir() + "/fifo-ia", "ia2"}).exit_code, 0);
    auto ca = ctr({"task", "attach", "ia2"});
    EXPECT_EQ(ca.exit_code, 4) << ca.err;
    EXPECT_EQ(ca.out, "from-gantry-start\n");
    EXPECT_EQ(gantry({"tasks", "ls", "-q"}).out, "");
}

TEST_P(TasksCliTest, TerminalStartAndAttach) {
    create("tty1", "test -t 0 && test -t 1 && echo is-a-tty; exit 4", true);
    auto r = in_terminal(gantry_cmd("tasks start tty1"));
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "is-a-tty")) << r.out;

    create("tty2",
           "for i in $(seq 50); do s=$(busybox stty size); [ \"$s\" = '22 77' ] && break; sleep "
           "0.1; done; echo size=$s; exit 6",
           true);
    ASSERT_EQ(
        gantry({"tasks", "start", "-d", "--fifo-dir", d().dir() + "/fifo-tty", "tty2"}).exit_code,
        0);
    auto a = in_terminal(gantry_cmd("tasks attach tty2"));
    EXPECT_EQ(a.exit_code, 6) << a.out << a.err;
    EXPECT_TRUE(contains(a.out, "size=22 77")) << "the terminal size is forwarded: " << a.out;
}

TEST_P(TasksCliTest, ExecRunsProcessesInARunningTask) {
    run_detached(kBusybox, "ex1", {"sleep", "1000"});
    auto r = gantry({"tasks", "exec", "--exec-id", "e1", "ex1", "sh", "-c",
                     "echo exec-out; echo exec-err >&2; exit 4"});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_EQ(r.out, "exec-out\n");
    EXPECT_EQ(r.err, "exec-err\n");

    auto in = run({"sh", "-c", "echo piped | " + gantry_cmd("tasks exec --exec-id e2 ex1 cat")});
    EXPECT_EQ(in.exit_code, 0) << in.err;
    EXPECT_EQ(in.out, "piped\n");

    auto env = gantry({"tasks", "exec", "--exec-id", "e3", "--cwd", "/etc", "--env", "FOO=bar",
                       "--env", "PATH=/sbin:/bin", "ex1", "sh", "-c", "pwd; echo $FOO $PATH"});
    EXPECT_EQ(env.exit_code, 0) << env.err;
    EXPECT_EQ(env.out, "/etc\nbar /sbin:/bin\n");

    // Everything after CONTAINER is the command: its flags (-d, -t here) and a name that is
    // also a gantry subcommand ("ls") are not ours.
    auto ls = gantry({"tasks", "exec", "--exec-id", "e4", "ex1", "ls", "-d", "/etc"});
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_EQ(ls.out, "/etc\n");
    auto dash_t =
        gantry({"tasks", "exec", "--exec-id", "e5", "ex1", "sh", "-c", "test -t 0", "-t"});
    EXPECT_EQ(dash_t.exit_code, 1) << "no terminal was asked for: " << dash_t.err;

    auto ps = gantry({"tasks", "ps", "ex1"});
    EXPECT_EQ(count_lines(ps.out), 2u) << "finished execs are deleted: " << ps.out;

    auto none = gantry({"tasks", "exec", "--exec-id", "e6", "ex1"});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_EQ(none.err, "gantry: no command given to execute\n");
    auto bad = gantry({"tasks", "exec", "--exec-id", "e7", "ex1", "/no/such/binary"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_EQ(count_lines(bad.err), 1u) << bad.err;
    EXPECT_TRUE(contains(bad.err, "no such file or directory")) << bad.err;
    EXPECT_EQ(count_lines(gantry({"tasks", "ps", "ex1"}).out), 2u) << "a failed exec is deleted";
    auto no_task = gantry({"tasks", "exec", "--exec-id", "e8", "nosuch", "true"});
    EXPECT_EQ(no_task.exit_code, 1);
    EXPECT_EQ(count_lines(no_task.err), 1u) << no_task.err;
}

TEST_P(TasksCliTest, DuplicateExecIdIsOneLineError) {
    run_detached(kBusybox, "dup1", {"sleep", "1000"});
    const std::string fifo_dir = d().dir() + "/fifo-dup-" + GetParam();
    auto bg = gantry(
        {"tasks", "exec", "-d", "--fifo-dir", fifo_dir, "--exec-id", "x1", "dup1", "sleep", "100"});
    ASSERT_EQ(bg.exit_code, 0) << bg.err;
    auto dup = gantry({"tasks", "exec", "--exec-id", "x1", "dup1", "true"});
    EXPECT_EQ(dup.exit_code, 1);
    EXPECT_EQ(dup.out, "");
    EXPECT_EQ(dup.err, "gantry: id x1: already exists\n");
    auto ctr_dup = ctr({"task", "exec", "--exec-id", "x1", "dup1", "true"});
    EXPECT_NE(ctr_dup.exit_code, 0);
    // The detached exec is untouched and still listed.
    EXPECT_TRUE(contains(gantry({"tasks", "ps", "dup1"}).out, "ExecID:x1")) << "exec x1 survives";
    auto missing_id = gantry({"tasks", "exec", "dup1", "true"});
    EXPECT_EQ(missing_id.exit_code, 2);
    EXPECT_TRUE(contains(missing_id.err, "--exec-id is required")) << missing_id.err;
}

TEST_P(TasksCliTest, TerminalExec) {
    run_detached(kBusybox, "tex1", {"sleep", "1000"});
    auto r = in_terminal(gantry_cmd(
        "tasks exec -t --exec-id t1 tex1 sh -c " +
        sh_quote("test -t 0 && echo is-a-tty; for i in $(seq 50); do s=$(busybox stty size); "
                 "[ \"$s\" = '22 77' ] && break; sleep 0.1; done; echo size=$s; exit 6")));
    EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "is-a-tty")) << r.out;
    EXPECT_TRUE(contains(r.out, "size=22 77")) << r.out;
}

TEST_P(TasksCliTest, ImageUsersByNameMatchCtr) {
    const std::string shim = GetParam();
    auto g = gantry({"run", "--rm", "--runtime", shim, kAppImage, "u1", "sh", "-c", kIds});
    EXPECT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(g.out, "1234\n2345\n2345 3456 4567\n");
    auto c = ctr({"run", "--rm", "--runtime", shim, kAppImage, "u1c", "sh", "-c", kIds});
    EXPECT_EQ(c.out, g.out) << "ctr resolves the image user the same way: " << c.err;

    auto root = gantry({"run", "--rm", "--runtime", shim, kRootImage, "u2", "sh", "-c", kIds});
    EXPECT_EQ(root.exit_code, 0) << root.err;
    EXPECT_EQ(root.out, "0\n0\n0 4567\n") << "root gets the groups that list root";
    auto root_ctr = ctr({"run", "--rm", "--runtime", shim, kRootImage, "u2c", "sh", "-c", kIds});
    EXPECT_EQ(root_ctr.out, root.out);

    // --user in each form containerd's WithUser accepts.
    const std::pair<std::string, std::string> cases[] = {
        {"app", "1234\n2345\n2345 3456 4567\n"},
        {"app:extra", "1234\n3456\n3456 4567\n"},
        {"1234:more", "1234\n4567\n4567 3456\n"},
        {"app:0", "1234\n0\n0 3456 4567\n"},
        {"1234", "1234\n2345\n2345 3456 4567\n"},
        {"4321", "4321\n0\n0\n"}, // a uid /etc/passwd lacks: gid 0, no groups
        {"99:98", "99\n98\n98\n"},
    };
    for (const auto& [user, want] : cases) {
        auto r = gantry(
            {"run", "--rm", "--runtime", shim, "--user", user, kRootImage, "u3", "sh", "-c", kIds});
        EXPECT_EQ(r.exit_code, 0) << user << ": " << r.err;
        EXPECT_EQ(r.out, want) << user;
    }
}

TEST_P(TasksCliTest, UnknownUsersFailWithOneLineAndLeaveNothing) {
    const std::size_t mounts_before = mounts_mentioning(d().root());
    const std::pair<std::string, std::string> cases[] = {
        {"nosuch", "user nosuch: no such user in the image's /etc/passwd"},
        {"app:nogroup", "group nogroup: no such group in the image's /etc/group"},
        {"nosuch:0", "user nosuch: no such user"},
        {"a:b:c", "invalid USER value a:b:c"},
    };
    for (const auto& [user, message] : cases) {
        auto r = gantry(
            {"run", "--rm", "--runtime", GetParam(), "--user", user, kRootImage, "bad1", "true"});
        EXPECT_EQ(r.exit_code, 1) << user;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
        EXPECT_TRUE(contains(r.err, message)) << r.err;
    }
    EXPECT_EQ(ctr({"containers", "ls", "-q"}).out, "");
    EXPECT_FALSE(contains(ctr({"snapshots", "ls"}).out, "bad1"));
    EXPECT_EQ(mounts_mentioning(d().root()), mounts_before) << "no temporary mount is left";
    EXPECT_EQ(ctr({"leases", "ls", "-q"}).out, "");

    // exec --user resolves in the running container's snapshot; exec takes no supplementary
    // groups (ctr's exec applies WithUser only).
    run_detached(kRootImage, "uex", {"sleep", "1000"});
    auto e = gantry({"tasks", "exec", "--exec-id", "x", "--user", "app", "uex", "sh", "-c", kIds});
    EXPECT_EQ(e.exit_code, 0) << e.err;
    EXPECT_EQ(e.out, "1234\n2345\n2345\n");
    auto ce = ctr({"task", "exec", "--exec-id", "y", "--user", "app", "uex", "sh", "-c", kIds});
    EXPECT_EQ(ce.out, e.out);
    auto eg = gantry({"tasks", "exec", "--exec-id", "x", "--user", "app:extra", "uex", "id", "-g"});
    EXPECT_EQ(eg.out, "3456\n") << eg.err;
    auto bad = gantry({"tasks", "exec", "--exec-id", "x", "--user", "nosuch", "uex", "true"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(bad.err, "gantry: user nosuch: no such user in the image's /etc/passwd\n");
    EXPECT_EQ(count_lines(gantry({"tasks", "ps", "uex"}).out), 2u);
}

TEST_P(TasksCliTest, HostileImageFilesResolveInsideTheRoot) {
    const std::size_t mounts_before = mounts_mentioning(d().root());
    // /etc/passwd -> /etc/passwd: inside the image a loop, so an error; never the host's file,
    // which has a "daemon" user.
    auto loop = gantry({"run", "--rm", "--runtime", GetParam(), kLoopImage, "h1", "id", "-u"});
    EXPECT_EQ(loop.exit_code, 1) << loop.out;
    EXPECT_EQ(loop.out, "");
    EXPECT_EQ(count_lines(loop.err), 1u) << loop.err;
    EXPECT_TRUE(contains(loop.err, "Too many levels of symbolic links")) << loop.err;
    EXPECT_EQ(ctr({"containers", "ls", "-q"}).out, "");
    EXPECT_FALSE(contains(ctr({"snapshots", "ls"}).out, "h1"));
    EXPECT_EQ(mounts_mentioning(d().root()), mounts_before);

    // Absolute and climbing symlinks to paths the host has too (with uid/gid 6666/7777): the
    // image's own files are the ones read.
    auto decoy =
        gantry({"run", "--rm", "--runtime", GetParam(), kDecoyImage, "h2", "sh", "-c", kIds});
    EXPECT_EQ(decoy.exit_code, 0) << decoy.err;
    EXPECT_EQ(decoy.out, "1234\n2345\n2345 3456 4567\n");
    auto ctr_decoy =
        ctr({"run", "--rm", "--runtime", GetParam(), kDecoyImage, "h2c", "sh", "-c", kIds});
    EXPECT_EQ(ctr_decoy.out, decoy.out);
}

GANTRY_INSTANTIATE_FOR_BOTH_SHIMS(TasksCliTest);

} // namespace
} // namespace gantry::itest
