#include "tests/integration/harness.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gantry::itest {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& out_path, const std::string& err_path) {
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    // Child: own process group so a timeout kills everything it started.
    ::setpgid(0, 0);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    for (const auto& [k, v] : env)
        ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
}

int decode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -1;
}

void unmount_under(const std::string& prefix) {
    // Deepest first, lazily: a test that failed half-way may have left anything mounted.
    std::vector<std::string> mounts;
    std::ifstream in("/proc/mounts");
    std::string dev, mnt, rest;
    while (in >> dev >> mnt && std::getline(in, rest))
        if (mnt.rfind(prefix, 0) == 0) mounts.push_back(mnt);
    std::sort(mounts.rbegin(), mounts.rend());
    for (const auto& m : mounts)
        ::umount2(m.c_str(), MNT_DETACH);
}

} // namespace

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

Output run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
           std::chrono::seconds timeout) {
    TempDir tmp;
    Output o;
    pid_t pid = spawn(argv, env, tmp.path() + "/out", tmp.path() + "/err");
    if (pid < 0) return o;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            o.exit_code = decode(status);
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            o.err = "[timed out]\n";
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    o.out = slurp(tmp.path() + "/out");
    o.err += slurp(tmp.path() + "/err");
    return o;
}

TempDir::TempDir() {
    char tmpl[] = "/tmp/gt-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    path_ = p != nullptr ? p : "/tmp/gt-failed";
}

TempDir::~TempDir() {
    unmount_under(path_ + "/");
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string bin(const std::string& name) {
    return std::string(GANTRY_TEST_BIN_DIR) + "/" + name;
}

bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

Daemon::Daemon(Options opts) : opts_(std::move(opts)) {
    std::filesystem::create_directories(dir() + "/s");
    if (!opts_.config_text.empty()) std::ofstream(dir() + "/config.toml") << opts_.config_text;
    if (opts_.start_now) start();
}

Daemon::~Daemon() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 500; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (pid_ > 0) kill9();
    }
}

std::string Daemon::log() const {
    return slurp(dir() + "/gantryd.log");
}

bool Daemon::start() {
    std::vector<std::string> argv{bin("gantryd"), "--root",    root(),  "--state",
                                  state(),        "--address", socket()};
    if (!opts_.config_text.empty()) {
        argv.push_back("--config");
        argv.push_back(dir() + "/config.toml");
    }
    argv.insert(argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
    // Append to one log across restarts so a failure shows the whole story.
    std::string logp = dir() + "/gantryd.log";
    pid_ = ::fork();
    if (pid_ == 0) {
        // A test binary that dies without running destructors (a crash, SIGPIPE, a ctest
        // timeout) must not leave its daemon behind.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = ::open(logp.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    if (!opts_.wait_ready) return true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        if (wait_for_socket(socket(), std::chrono::milliseconds(20))) return true;
    }
    return false;
}

int Daemon::stop(std::chrono::seconds grace) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    auto code = wait_exit(grace);
    if (!code) {
        kill9();
        return -SIGKILL;
    }
    return *code;
}

void Daemon::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

std::optional<int> Daemon::wait_exit(std::chrono::seconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            if (WIFSIGNALED(status)) return -WTERMSIG(status);
            return WEXITSTATUS(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
}

Output Daemon::gantry(std::vector<std::string> args, const std::string& ns) const {
    std::vector<std::string> argv{bin("gantry"), "--address", socket()};
    if (!ns.empty()) {
        argv.push_back("--namespace");
        argv.push_back(ns);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

Output Daemon::ctr(std::vector<std::string> args, const std::string& ns) const {
    std::vector<std::string> argv{"ctr", "--address", socket()};
    if (!ns.empty()) {
        argv.push_back("--namespace");
        argv.push_back(ns);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

} // namespace gantry::itest
