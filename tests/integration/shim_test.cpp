// containerd-shim-gantry-v2 under the real containerd 1.6: a private containerd on a temp root
// finds the shim on its PATH as the runtime io.containerd.gantry.v2, and the real `ctr` drives
// whole container lifecycles through it (runc, runsc, crun), side by side with
// containerd-shim-runc-v2 for the memory comparison.
#include "shims/gantry-shim/loop.hpp"
#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/ttrpc.hpp"
#include "tests/integration/harness.hpp"

#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace gantry::itest;
using namespace std::chrono_literals;

namespace {

constexpr const char* kImage = "docker.io/library/bartest:latest";
constexpr const char* kRuntime = "io.containerd.gantry.v2";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Processes whose command line contains every needle (by pid, for targeted cleanup).
std::vector<pid_t> findProcesses(const std::vector<std::string>& needles) {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
        if (pid <= 0) continue;
        std::string cmd = slurp("/proc/" + std::to_string(pid) + "/cmdline");
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        bool all = !cmd.empty();
        for (const auto& n : needles)
            all = all && cmd.find(n) != std::string::npos;
        if (all) out.push_back(pid);
    }
    ::closedir(d);
    return out;
}

struct Memory {
    long rssKb = -1;
    long pssKb = -1;
};

Memory memoryOf(pid_t pid) {
    Memory m;
    std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/smaps_rollup"));
    std::string key;
    long value;
    std::string unit;
    while (in >> key) {
        if (key == "Rss:" && in >> value >> unit)
            m.rssKb = value;
        else if (key == "Pss:" && in >> value >> unit)
            m.pssKb = value;
    }
    return m;
}

// A private containerd 1.6 on a temp root, with the shim on its PATH.
class Containerd {
public:
    Containerd() {
        ns_ = "gshim" + std::to_string(::getpid());
        const std::string d = dir_.path();
        std::filesystem::create_directories(d + "/bin");
        std::filesystem::create_symlink(bin("containerd-shim-gantry-v2"),
                                        d + "/bin/containerd-shim-gantry-v2");
        std::ofstream(d + "/containerd.toml")
            << "version = 2\nroot = \"" << d << "/root\"\nstate = \"" << d << "/state\"\n"
            << "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
            << "[grpc]\n  address = \"" << socket() << "\"\n"
            << "[ttrpc]\n  address = \"" << socket() << ".ttrpc\"\n";
        ready_ = start();
    }

    // (Re)starts the daemon on the same root, state and socket.
    bool start() {
        const std::string d = dir_.path();
        ::unlink(socket().c_str());
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            int log = ::open((d + "/containerd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            int in = ::open("/dev/null", O_RDONLY);
            ::dup2(in, 0);
            ::dup2(log, 1);
            ::dup2(log, 2);
            std::string path =
                d + "/bin:" + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
            ::setenv("PATH", path.c_str(), 1);
            ::execl("/usr/bin/containerd", "containerd", "--config",
                    (d + "/containerd.toml").c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        return wait_for_socket(socket(), 20s);
    }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 100 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(100ms);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    ~Containerd() {
        // Tasks first, so no shim outlives the daemon; then whatever shim of ours is left.
        auto tasks = ctr({"tasks", "ls", "-q"});
        std::istringstream ids(tasks.out);
        for (std::string id; ids >> id;) {
            ctr({"tasks", "kill", "-s", "KILL", id});
            ctr({"tasks", "rm", "-f", id});
        }
        auto containers = ctr({"containers", "ls", "-q"});
        std::istringstream cids(containers.out);
        for (std::string id; cids >> id;)
            ctr({"containers", "rm", id});
        stop();
        for (pid_t p : findProcesses({"containerd-shim", "-namespace " + ns_ + " "}))
            ::kill(p, SIGKILL);
        std::error_code ec;
        std::filesystem::remove_all("/run/containerd/runc/" + ns_, ec);
    }

    bool ready() const { return ready_; }
    const std::string& ns() const { return ns_; }
    std::string dir() const { return dir_.path(); }
    std::string socket() const { return dir_.path() + "/c.sock"; }
    std::string log() const { return slurp(dir_.path() + "/containerd.log"); }

    Output ctr(std::vector<std::string> args, std::chrono::seconds timeout = 60s) const {
        std::vector<std::string> argv = {"/usr/bin/ctr", "-a", socket(), "-n", ns_};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, {}, timeout);
    }

    // The long-running shim serving container `id`.
    pid_t shimPid(const std::string& id) const {
        auto pids =
            findProcesses({"containerd-shim", "-namespace " + ns_ + " ", "-id " + id + " "});
        return pids.empty() ? -1 : pids.front();
    }

private:
    TempDir dir_;
    std::string ns_;
    pid_t pid_ = -1;
    bool ready_ = false;
};

class ShimTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = new Containerd();
        ASSERT_TRUE(daemon_->ready()) << daemon_->log();
        std::string archive = daemon_->dir() + "/image.tar";
        auto made = run({"python3", GANTRY_TEST_MKIMAGE, archive});
        ASSERT_EQ(made.exit_code, 0) << made.err;
        auto imported = daemon_->ctr({"images", "import", archive});
        ASSERT_EQ(imported.exit_code, 0) << imported.err;
    }
    static void TearDownTestSuite() {
        delete daemon_;
        daemon_ = nullptr;
    }
    void SetUp() override {
        if (!daemon_ || !daemon_->ready()) GTEST_SKIP() << "containerd did not start";
    }
    void TearDown() override {
        if (HasFailure() && daemon_)
            std::fprintf(stderr, "containerd log:\n%s\n", daemon_->log().c_str());
    }
    const Containerd& d() const { return *daemon_; }
    Containerd& mutableDaemon() { return *daemon_; }
    Output runRm(const std::string& id, std::vector<std::string> cmd,
                 std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"run", "--rm", "--runtime", kRuntime};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(kImage);
        args.push_back(id);
        args.insert(args.end(), cmd.begin(), cmd.end());
        return d().ctr(args);
    }
    // No container, task, mount or shim of `id` is left.
    void expectGone(const std::string& id) {
        EXPECT_EQ(d().ctr({"containers", "info", id}).exit_code, 1);
        EXPECT_EQ(d().shimPid(id), -1);
        EXPECT_FALSE(
            contains(slurp("/proc/self/mountinfo"), "/" + d().ns() + "/" + id + "/rootfs"));
    }

    static Containerd* daemon_;
};

Containerd* ShimTest::daemon_ = nullptr;

TEST_F(ShimTest, RunPrintsHelloAndCleansUp) {
    auto out = runRm("hello", {"echo", "hello"});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    EXPECT_EQ(out.out, "hello\n");
    expectGone("hello");
}

TEST_F(ShimTest, ExitCodePropagates) {
    auto out = runRm("exit3", {"sh", "-c", "echo to-stderr >&2; exit 3"});
    EXPECT_EQ(out.exit_code, 3) << out.err;
    EXPECT_TRUE(contains(out.err, "to-stderr")) << out.err;
    expectGone("exit3");
}

TEST_F(ShimTest, StdinIsCopiedIntoTheContainer) {
    std::string cmd = "echo 'echo piped-in; exit 2' | /usr/bin/ctr -a " + d().socket() + " -n " +
                      d().ns() + " run --rm --runtime " + kRuntime + " " + kImage + " stdin1 sh";
    auto out = run({"sh", "-c", cmd});
    EXPECT_EQ(out.exit_code, 2) << out.err;
    EXPECT_EQ(out.out, "piped-in\n");
    expectGone("stdin1");
}

TEST_F(ShimTest, DetachedLifecycleWithExecPsPauseMetricsKill) {
    const std::string id = "life";
    // Watch the events the shim forwards to the daemon.
    std::string evPath = d().dir() + "/events.txt";
    pid_t events = ::fork();
    if (events == 0) {
        int fd = ::open(evPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(fd, 1);
        ::execl("/usr/bin/ctr", "ctr", "-a", d().socket().c_str(), "events",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    std::this_thread::sleep_for(300ms);

    auto started = d().ctr({"run", "-d", "--runtime", kRuntime, kImage, id, "sleep", "1000"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    auto ls = d().ctr({"tasks", "ls"});
    EXPECT_TRUE(contains(ls.out, id) && contains(ls.out, "RUNNING")) << ls.out;
    EXPECT_GT(d().shimPid(id), 0);

    auto exec = d().ctr({"tasks", "exec", "--exec-id", "e1", id, "echo", "hi"});
    EXPECT_EQ(exec.exit_code, 0) << exec.err;
    EXPECT_EQ(exec.out, "hi\n");
    auto exec5 = d().ctr({"tasks", "exec", "--exec-id", "e2", id, "sh", "-c", "exit 5"});
    EXPECT_EQ(exec5.exit_code, 5) << exec5.err;
    auto dup = d().ctr({"tasks", "exec", "--exec-id", "e3", id, "/no/such/binary"});
    EXPECT_NE(dup.exit_code, 0);
    EXPECT_TRUE(contains(dup.err, "OCI runtime exec failed")) << dup.err;

    auto ps = d().ctr({"tasks", "ps", id});
    EXPECT_EQ(ps.exit_code, 0) << ps.err;
    std::string initPid;
    {
        std::istringstream in(ls.out);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind(id + " ", 0) == 0) std::istringstream(line) >> initPid >> initPid;
    }
    EXPECT_TRUE(contains(ps.out, initPid)) << ps.out << " vs " << ls.out;

    EXPECT_EQ(d().ctr({"tasks", "pause", id}).exit_code, 0);
    EXPECT_TRUE(contains(d().ctr({"tasks", "ls"}).out, "PAUSED"));
    auto pausedExec = d().ctr({"tasks", "exec", "--exec-id", "e4", id, "true"});
    EXPECT_NE(pausedExec.exit_code, 0);
    auto again = d().ctr({"tasks", "pause", id});
    EXPECT_NE(again.exit_code, 0);
    EXPECT_EQ(d().ctr({"tasks", "resume", id}).exit_code, 0);
    EXPECT_TRUE(contains(d().ctr({"tasks", "ls"}).out, "RUNNING"));

    auto metrics = d().ctr({"tasks", "metrics", id});
    EXPECT_EQ(metrics.exit_code, 0) << metrics.err;
    EXPECT_TRUE(contains(metrics.out, "memory.usage_in_bytes") ||
                contains(metrics.out, "memory.usage"))
        << metrics.out;
    EXPECT_TRUE(contains(metrics.out, "pids.current")) << metrics.out;

    // busybox sleep as pid 1 ignores SIGTERM (no handler); SIGKILL ends it.
    EXPECT_EQ(d().ctr({"tasks", "kill", "-s", "KILL", id}).exit_code, 0);
    bool stopped = false;
    for (int i = 0; i < 50 && !stopped; ++i) {
        stopped = contains(d().ctr({"tasks", "ls"}).out, "STOPPED");
        if (!stopped) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(stopped);
    auto killAgain = d().ctr({"tasks", "kill", "-s", "KILL", id});
    EXPECT_NE(killAgain.exit_code, 0);
    EXPECT_TRUE(contains(killAgain.err, "process already finished")) << killAgain.err;
    auto rm = d().ctr({"tasks", "rm", id});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(d().ctr({"containers", "rm", id}).exit_code, 0);
    std::this_thread::sleep_for(500ms);
    expectGone(id);

    ::kill(events, SIGTERM);
    ::waitpid(events, nullptr, 0);
    std::string ev = slurp(evPath);
    for (const char* topic :
         {"/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started",
          "/tasks/paused", "/tasks/resumed", "/tasks/exit", "/tasks/delete"})
        EXPECT_TRUE(contains(ev, topic)) << topic << " missing from:\n" << ev;
    EXPECT_TRUE(contains(ev, "\"exit_status\":137")) << ev;
}

TEST_F(ShimTest, TerminalRun) {
    // ctr -t needs a terminal on its stdin: script(1) provides one.
    std::string cmd = "/usr/bin/ctr -a " + d().socket() + " -n " + d().ns() +
                      " run --rm -t --runtime " + kRuntime + " " + kImage +
                      " tty1 sh -c 'tty; echo tty-ok; exit 4'";
    auto out = run({"script", "-eqc", cmd, "/dev/null"});
    EXPECT_EQ(out.exit_code, 4) << out.out << out.err;
    EXPECT_TRUE(contains(out.out, "/dev/pts/0")) << out.out;
    EXPECT_TRUE(contains(out.out, "tty-ok")) << out.out;
    expectGone("tty1");
}

TEST_F(ShimTest, RunscWithRuntimeArgsFromAConfigFile) {
    if (::access("/usr/bin/runsc", X_OK) != 0) GTEST_SKIP() << "runsc not installed";
    // ctr only sends runc options for io.containerd.runc.v2; for other runtimes it sends a
    // runtimeoptions config_path, which this shim reads (BinaryName, RuntimeArgs...).
    std::string cfg = d().dir() + "/runsc.toml";
    std::ofstream(cfg) << "BinaryName = \"/usr/bin/runsc\"\nRuntimeArgs = [\"--network=none\"]\n";
    auto out = runRm("gvisor", {"sh", "-c", "dmesg | grep -q gVisor && echo in-gvisor; exit 6"},
                     {"--runtime-config-path", cfg});
    EXPECT_EQ(out.exit_code, 6) << out.err;
    EXPECT_EQ(out.out, "in-gvisor\n");
    expectGone("gvisor");

    // Without --network=none runsc refuses to start; its own message reaches the user, and the
    // created container can still be removed.
    std::string bare = d().dir() + "/runsc-bare.toml";
    std::ofstream(bare) << "BinaryName = \"/usr/bin/runsc\"\n";
    auto refused = runRm("gvisor2", {"true"}, {"--runtime-config-path", bare});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_TRUE(contains(refused.err, "runsc start failed")) << refused.err;
    EXPECT_TRUE(contains(refused.err, "network")) << refused.err;
    d().ctr({"tasks", "rm", "-f", "gvisor2"}); // ctr's own --rm cleanup may have done it
    d().ctr({"containers", "rm", "gvisor2"});
    expectGone("gvisor2");
}

TEST_F(ShimTest, CrunRunsOrSaysWhyNot) {
    if (::access("/usr/bin/crun", X_OK) != 0) GTEST_SKIP() << "crun not installed";
    std::string cfg = d().dir() + "/crun.toml";
    std::ofstream(cfg) << "BinaryName = \"/usr/bin/crun\"\n";
    auto out = runRm("crun1", {"echo", "hello"}, {"--runtime-config-path", cfg});
    if (out.exit_code == 0) {
        EXPECT_EQ(out.out, "hello\n");
    } else {
        // On hybrid cgroup hosts crun refuses; the reason must be crun's own words.
        EXPECT_TRUE(contains(out.err, "OCI runtime create failed: crun create failed:")) << out.err;
        if (contains(slurp("/proc/self/mountinfo"), " cgroup2 ") &&
            contains(slurp("/proc/self/mountinfo"), " cgroup "))
            EXPECT_TRUE(contains(out.err, "hybrid")) << out.err;
        d().ctr({"containers", "rm", "crun1"});
    }
    expectGone("crun1");
}

TEST_F(ShimTest, BadRuntimeConfigIsAClearError) {
    std::string cfg = d().dir() + "/bad.toml";
    std::ofstream(cfg) << "Binary = \"runc\"\n";
    auto out = runRm("badcfg", {"true"}, {"--runtime-config-path", cfg});
    EXPECT_NE(out.exit_code, 0);
    EXPECT_TRUE(contains(out.err, "unknown option Binary")) << out.err;
    d().ctr({"containers", "rm", "badcfg"});
    expectGone("badcfg");
}

TEST_F(ShimTest, DeadShimIsCleanedUpByDelete) {
    // containerd runs `<shim> delete` when a shim dies under a live task (§10.5): the runtime's
    // container is removed, the rootfs unmounted and the task reported gone.
    auto started = d().ctr({"run", "-d", "--runtime", kRuntime, kImage, "orphan", "sleep", "1000"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    pid_t shim = d().shimPid("orphan");
    ASSERT_GT(shim, 0);
    ::kill(shim, SIGKILL);
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {
        gone = !contains(d().ctr({"tasks", "ls"}).out, "orphan");
        if (!gone) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(gone);
    // The daemon's cleanup runs `<shim> delete` (runc delete --force) in the background.
    auto runcList = [&] {
        return run({"runc", "--root", "/run/containerd/runc/" + d().ns(), "list"}).out;
    };
    bool removed = false;
    for (int i = 0; i < 50 && !removed; ++i) {
        removed = !contains(runcList(), "orphan");
        if (!removed) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(removed) << runcList() << d().log();
    EXPECT_EQ(d().ctr({"containers", "rm", "orphan"}).exit_code, 0);
    expectGone("orphan");
}

TEST_F(ShimTest, ShimSurvivesADaemonRestart) {
    // containerd reloads the task from the bundle's address file and Connects (§10.6).
    auto started = d().ctr({"run", "-d", "--runtime", kRuntime, kImage, "reload", "sleep", "1000"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    pid_t shim = d().shimPid("reload");
    mutableDaemon().stop();
    ASSERT_TRUE(mutableDaemon().start()) << d().log();
    EXPECT_EQ(d().shimPid("reload"), shim);
    EXPECT_TRUE(contains(d().ctr({"tasks", "ls"}).out, "RUNNING"));
    auto exec = d().ctr({"tasks", "exec", "--exec-id", "after", "reload", "echo", "still-here"});
    EXPECT_EQ(exec.exit_code, 0) << exec.err;
    EXPECT_EQ(exec.out, "still-here\n");
    EXPECT_EQ(d().ctr({"tasks", "kill", "-s", "KILL", "reload"}).exit_code, 0);
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(d().ctr({"tasks", "rm", "reload"}).exit_code, 0);
    EXPECT_EQ(d().ctr({"containers", "rm", "reload"}).exit_code, 0);
    expectGone("reload");
}

// Raw ttrpc calls to the shim of a running container: the error codes clients steer by.
TEST_F(ShimTest, TaskApiErrorsOverRawTtrpc) {
    namespace shim = gantry::shim;
    auto started = d().ctr({"run", "-d", "--runtime", kRuntime, kImage, "raw", "sleep", "1000"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    std::string address =
        slurp(d().dir() + "/state/io.containerd.runtime.v2.task/" + d().ns() + "/raw/address");
    ASSERT_EQ(address.rfind("unix://", 0), 0u) << address;

    shim::Loop loop;
    shim::ttrpc::Client client(loop, address.substr(7));
    auto call = [&](std::string_view service, std::string_view method,
                    const shim::pb::Writer& req) {
        std::pair<shim::ttrpc::Status, std::string> result;
        client.call(service, method, req.data(), 0, {{"containerd-namespace-ttrpc", d().ns()}},
                    [&](const shim::ttrpc::Status& st, std::string_view payload) {
                        result = {st, std::string(payload)};
                        loop.stop();
                    });
        loop.run();
        return result;
    };
    shim::pb::Writer raw;
    raw.str(1, "raw");
    shim::pb::Writer other;
    other.str(1, "other");
    shim::pb::Writer badExec;
    badExec.str(1, "raw");
    badExec.str(2, "nope");

    auto connect = call("containerd.task.v2.Task", "Connect", raw);
    ASSERT_TRUE(connect.first.ok()) << connect.first.message;
    shim::pb::Message cr;
    ASSERT_TRUE(cr.parse(connect.second));
    EXPECT_EQ(static_cast<pid_t>(cr.u64(1)), d().shimPid("raw"));
    EXPECT_GT(cr.u64(2), 0u);

    auto state = call("containerd.task.v2.Task", "State", raw);
    ASSERT_TRUE(state.first.ok());
    shim::pb::Message sr;
    ASSERT_TRUE(sr.parse(state.second));
    EXPECT_EQ(sr.str(1), "raw");
    EXPECT_EQ(sr.u64(4), 2u); // RUNNING

    auto unknownId = call("containerd.task.v2.Task", "State", other);
    EXPECT_EQ(unknownId.first.code, shim::ttrpc::NotFound);
    EXPECT_EQ(unknownId.first.message, "container not created");
    auto unknownExec = call("containerd.task.v2.Task", "Kill", badExec);
    EXPECT_EQ(unknownExec.first.code, shim::ttrpc::NotFound);
    auto start = call("containerd.task.v2.Task", "Start", raw);
    EXPECT_EQ(start.first.code, shim::ttrpc::Unknown) << start.first.message; // already running
    auto checkpoint = call("containerd.task.v2.Task", "Checkpoint", raw);     // no image path
    EXPECT_EQ(checkpoint.first.code, shim::ttrpc::InvalidArgument);
    EXPECT_EQ(checkpoint.first.message, "checkpoint: an image path is required");
    auto method = call("containerd.task.v2.Task", "Frobnicate", raw);
    EXPECT_EQ(method.first.code, shim::ttrpc::Unimplemented);
    EXPECT_EQ(method.first.message, "method Frobnicate");
    auto service = call("containerd.task.v3.Task", "State", raw);
    EXPECT_EQ(service.first.code, shim::ttrpc::Unimplemented);
    EXPECT_EQ(service.first.message, "service containerd.task.v3.Task");
    // Shutdown while the container lives is a no-op: the shim keeps serving.
    auto shutdown = call("containerd.task.v2.Task", "Shutdown", raw);
    EXPECT_TRUE(shutdown.first.ok());
    EXPECT_TRUE(call("containerd.task.v2.Task", "State", raw).first.ok());

    d().ctr({"tasks", "kill", "-s", "KILL", "raw"});
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(d().ctr({"tasks", "rm", "raw"}).exit_code, 0);
    EXPECT_EQ(d().ctr({"containers", "rm", "raw"}).exit_code, 0);
    expectGone("raw");
}

TEST_F(ShimTest, OomKillIsReported) {
    std::string evPath = d().dir() + "/oom-events.txt";
    pid_t events = ::fork();
    if (events == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = ::open(evPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 1);
        ::execl("/usr/bin/ctr", "ctr", "-a", d().socket().c_str(), "events",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    std::this_thread::sleep_for(300ms);
    // dd's 32 MiB buffer cannot fit under an 8 MiB limit.
    auto out = runRm("oom", {"sh", "-c", "dd if=/dev/zero of=/dev/null bs=32M count=1"},
                     {"--memory-limit", "8388608"});
    EXPECT_EQ(out.exit_code, 137) << out.err;
    std::this_thread::sleep_for(500ms);
    ::kill(events, SIGTERM);
    ::waitpid(events, nullptr, 0);
    std::string ev = slurp(evPath);
    EXPECT_TRUE(contains(ev, "/tasks/oom {\"container_id\":\"oom\"}")) << ev;
    expectGone("oom");
}

TEST_F(ShimTest, IdleMemoryAgainstTheRuncShim) {
    auto a = d().ctr({"run", "-d", "--runtime", kRuntime, kImage, "mem-gantry", "sleep", "1000"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    auto b = d().ctr(
        {"run", "-d", "--runtime", "io.containerd.runc.v2", kImage, "mem-runc", "sleep", "1000"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    std::this_thread::sleep_for(1s); // let both settle into idle
    Memory ours = memoryOf(d().shimPid("mem-gantry"));
    Memory theirs = memoryOf(d().shimPid("mem-runc"));
    std::printf("idle shim with one running container (smaps_rollup):\n"
                "  containerd-shim-gantry-v2  RSS %ld kB  PSS %ld kB\n"
                "  containerd-shim-runc-v2    RSS %ld kB  PSS %ld kB\n",
                ours.rssKb, ours.pssKb, theirs.rssKb, theirs.pssKb);
    ASSERT_GT(ours.rssKb, 0);
    EXPECT_LT(ours.rssKb, 2048);
    EXPECT_LT(ours.pssKb, 1024);
    if (theirs.pssKb > 0) EXPECT_LT(ours.pssKb, theirs.pssKb);
    for (const char* id : {"mem-gantry", "mem-runc"}) {
        d().ctr({"tasks", "kill", "-s", "KILL", id});
        std::this_thread::sleep_for(300ms);
        d().ctr({"tasks", "rm", "-f", id});
        d().ctr({"containers", "rm", id});
    }
}

} // namespace
