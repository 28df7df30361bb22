// containerd-shim-gantry-v2: the runtime v2 shim for io.containerd.gantry.v2 (protocol-facts §10).
//   start   pick the socket, start the long-running shim on it, print the address
//   delete  clean up after a dead shim: runtime delete --force, unmount, print a DeleteResponse
//   (none)  the long-running shim: ttrpc containerd.task.v2.Task on fd 3 (or -socket)
#include "shims/gantry-shim/events.hpp"
#include "shims/gantry-shim/loop.hpp"
#include "shims/gantry-shim/rootfs.hpp"
#include "shims/gantry-shim/runtime.hpp"
#include "shims/gantry-shim/service.hpp"
#include "shims/gantry-shim/sha256.hpp"
#include "shims/gantry-shim/ttrpc.hpp"
#include "shims/gantry-shim/util.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gantry::shim;

namespace {

constexpr std::string_view kSocketDir = "/run/containerd/s";

struct Flags {
    std::string ns, id, address, publishBinary, bundle, socket, action;
    bool debug = false;
};

void die(const std::string& msg) {
    std::string line = "containerd-shim-gantry-v2: " + msg + "\n";
    ssize_t ignored = ::write(2, line.data(), line.size());
    (void)ignored;
    ::_exit(1);
}

// Go's flag syntax: -name value, --name value, -name=value; boolean -debug; then the action.
Flags parseFlags(int argc, char** argv) {
    Flags f;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a.empty() || a[0] != '-') {
            f.action = a;
            continue;
        }
        a.remove_prefix(a.size() > 1 && a[1] == '-' ? 2 : 1);
        std::string name(a), value;
        bool hasValue = false;
        if (auto eq = a.find('='); eq != std::string_view::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
            hasValue = true;
        }
        if (name == "debug" || name == "v") {
            if (name == "v") {
                std::printf("containerd-shim-gantry-v2 (Gantry) shim API v2, ttrpc 1.1\n");
                std::exit(0);
            }
            f.debug = !hasValue || value == "true";
            continue;
        }
        if (!hasValue) {
            if (i + 1 >= argc) die("flag needs an argument: -" + name);
            value = argv[++i];
        }
        if (name == "namespace")
            f.ns = value;
        else if (name == "id")
            f.id = value;
        else if (name == "address")
            f.address = value;
        else if (name == "publish-binary")
            f.publishBinary = value;
        else if (name == "bundle")
            f.bundle = value;
        else if (name == "socket")
            f.socket = value;
        else
            die("flag provided but not defined: -" + name);
    }
    return f;
}

std::string cwd() {
    char buf[4096];
    return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string(".");
}

bool fillAddr(sockaddr_un& addr, const std::string& path) {
    addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return false;
    path.copy(addr.sun_path, path.size());
    return true;
}

bool socketAlive(const std::string& path) {
    sockaddr_un addr;
    if (!fillAddr(addr, path)) return false;
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

void printAddress(const std::string& address) {
    ssize_t ignored = ::write(1, address.data(), address.size());
    (void)ignored;
}

// `start` (§10.3): one socket per (daemon address, namespace, group = task id).
int start(const Flags& f) {
    if (f.ns.empty() || f.id.empty()) die("start needs -namespace and -id");
    std::string bundle = cwd();
    std::string path =
        std::string(kSocketDir) + "/" + sha256Hex(f.address + "/" + f.ns + "/" + f.id);
    std::string address = "unix://" + path;
    ::mkdir("/run/containerd", 0711);
    ::mkdir(std::string(kSocketDir).c_str(), 0711);

    Fd listener(::socket(AF_UNIX, SOCK_STREAM, 0)); // no CLOEXEC: it becomes the child's fd 3
    sockaddr_un addr;
    if (!listener || !fillAddr(addr, path)) die("socket " + path + ": " + strerror(errno));
    auto bindIt = [&] {
        mode_t old = ::umask(0077); // the socket is 0600, like the runc shim's
        int rc = ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::umask(old);
        return rc;
    };
    if (bindIt() != 0) {
        if (errno != EADDRINUSE) die("bind " + path + ": " + strerror(errno));
        if (socketAlive(path)) { // a shim already serves this group: share it
            if (!writeFileAtomic(bundle + "/address", address)) die("write address");
            printAddress(address);
            return 0;
        }
        ::unlink(path.c_str());
        if (bindIt() != 0) die("bind " + path + ": " + strerror(errno));
    }
    if (::listen(listener.get(), 64) != 0) die("listen " + path + ": " + strerror(errno));
    if (!writeFileAtomic(bundle + "/address", address)) die("write " + bundle + "/address");

    std::string self = "/proc/self/exe";
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) self.assign(exe, static_cast<size_t>(n));

    pid_t child = ::fork();
    if (child < 0) die(std::string("fork: ") + strerror(errno));
    if (child == 0) {
        ::setsid();
        // The daemon reads our combined output until EOF: the child must not hold it.
        int devnull = ::open("/dev/null", O_RDWR);
        for (int i = 0; i < 3; ++i)
            ::dup2(devnull, i);
        if (listener.get() != 3) {
            ::dup2(listener.get(), 3);
        } else {
            ::fcntl(3, F_SETFD, 0);
        }
        std::vector<std::string> args = {self, "-namespace", f.ns,     "-id",
                                         f.id, "-address",   f.address};
        if (!f.publishBinary.empty()) {
            args.emplace_back("-publish-binary");
            args.push_back(f.publishBinary);
        }
        if (f.debug) args.emplace_back("-debug");
        std::vector<char*> cargv;
        for (auto& a : args)
            cargv.push_back(a.data());
        cargv.push_back(nullptr);
        ::execv(self.c_str(), cargv.data());
        ::_exit(127);
    }

    // Shim options on stdin: only shim_cgroup matters before Create.
    std::string opts;
    char buf[4096];
    while ((n = ::read(0, buf, sizeof buf)) > 0)
        opts.append(buf, static_cast<size_t>(n));
    RuntimeOptions ro;
    if (!opts.empty() && decodeOptions(opts, ro).empty() && !ro.shimCgroup.empty()) {
        for (const char* ctrl :
             {"cpu,cpuacct", "memory", "pids", "blkio", "devices", "freezer", "cpuset",
              "net_cls,net_prio", "perf_event", "hugetlb", "systemd", ""}) {
            std::string dir = std::string("/sys/fs/cgroup/") + ctrl + ro.shimCgroup;
            if (::access(dir.c_str(), F_OK) == 0)
                writeFile(dir + "/cgroup.procs", std::to_string(child));
        }
    }
    // One point above the daemon's OOM score, so the shim goes before containerd does.
    if (auto score = readFile("/proc/" + std::to_string(::getppid()) + "/oom_score_adj")) {
        int adj = std::atoi(score->c_str()) + 1;
        if (adj > 1000) adj = 1000;
        writeFile("/proc/" + std::to_string(child) + "/oom_score_adj", std::to_string(adj));
    }
    printAddress(address);
    return 0;
}

// `delete` (§10.5).
int deleteAction(const Flags& f) {
    std::string bundle = f.bundle.empty() ? cwd() : f.bundle;
    RuntimeOptions opts;
    if (auto json = readFile(bundle + "/options.json")) opts = RuntimeOptions::fromJson(*json);
    Runtime rt(opts, f.ns, bundle);
    auto r = rt.remove(f.id, true);
    if (!r.ok) logLine("warning", "failed to remove runtime container: " + r.error);
    unmountAll(bundle + "/rootfs");
    int pid = 0;
    if (auto text = readFile(bundle + "/init.pid")) pid = std::atoi(text->c_str());
    pb::Writer resp;
    resp.u64(1, static_cast<uint32_t>(pid));
    resp.u64(2, 128 + SIGKILL);
    resp.msg(3, timestamp(wallNow()));
    printAddress(resp.data());
    return 0;
}

int serve(const Flags& f) {
    if (f.ns.empty()) die("the shim needs -namespace");
    // containerd made the `log` FIFO and reads it; our diagnostics go there.
    int log = ::open("log", O_WRONLY | O_CLOEXEC);
    if (log >= 0) {
        ::dup2(log, 2);
        ::close(log);
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT})
        sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    Fd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));

    Fd listener;
    std::string socketPath;
    if (!f.socket.empty()) {
        socketPath = f.socket;
        sockaddr_un addr;
        listener.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fillAddr(addr, socketPath)) die("socket path too long: " + socketPath);
        ::unlink(socketPath.c_str());
        if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener.get(), 64) != 0)
            die("listen " + socketPath + ": " + strerror(errno));
    } else {
        listener.reset(3);
        sockaddr_un addr{};
        socklen_t len = sizeof addr;
        if (::getsockname(3, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            die("fd 3 is not a socket");
        socketPath = addr.sun_path;
    }

    Loop loop;
    if (!loop.ok()) die("epoll: " + std::string(strerror(errno)));
    const char* ttrpcAddress = std::getenv("TTRPC_ADDRESS");
    Publisher events(loop, ttrpcAddress ? ttrpcAddress : "", f.ns);
    Service* service = nullptr;
    ttrpc::Server server(
        loop, [&](ttrpc::Call call, const ttrpc::Request& req) { service->handle(call, req); });
    Service svc(loop, server, events, f.ns, cwd());
    service = &svc;
    if (!server.listen(std::move(listener))) die("cannot serve on " + socketPath);

    bool stopping = false; // SIGTERM or SIGINT
    loop.add(sigfd.get(), EPOLLIN, [&](uint32_t) {
        signalfd_siginfo si;
        while (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) stopping = true;
        }
        // One SIGCHLD may stand for several exits: reap until none is left.
        for (;;) {
            int ws = 0;
            pid_t pid = ::waitpid(-1, &ws, WNOHANG);
            if (pid <= 0) break;
            svc.onExit(pid, ws);
        }
        if (stopping) loop.stop();
    });

    loop.run(); // until Shutdown with nothing left to serve, or SIGTERM/SIGINT
    server.flushBlocking();
    // Events still queued (TaskDelete right before Shutdown) get up to two seconds to go out.
    if (!events.idle()) {
        Fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
        itimerspec its{};
        its.it_value.tv_sec = 2;
        ::timerfd_settime(timer.get(), 0, &its, nullptr);
        loop.add(timer.get(), EPOLLIN, [&](uint32_t) { loop.stop(); });
        events.onIdle([&] { loop.stop(); });
        loop.run();
        loop.remove(timer.get());
    }
    ::unlink(socketPath.c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    Flags f = parseFlags(argc, argv);
    if (f.action == "start") return start(f);
    if (f.action == "delete") return deleteAction(f);
    if (!f.action.empty()) die("unknown action " + f.action);
    return serve(f);
}
