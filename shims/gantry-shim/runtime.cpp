#include "shims/gantry-shim/runtime.hpp"

#include "shims/gantry-shim/fd.hpp"
#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/util.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gantry::shim {

namespace {

constexpr std::string_view kRuncOptions = "containerd.runc.v1.Options";
constexpr std::string_view kRuntimeOptions = "runtimeoptions.v1.Options";

std::vector<std::string> splitSpaces(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ')
            ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ')
            ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// Parses `"a", "b"` inside a TOML array.
std::vector<std::string> parseStringArray(std::string_view v) {
    std::vector<std::string> out;
    size_t i = 0;
    while ((i = v.find('"', i)) != std::string_view::npos) {
        size_t j = v.find('"', i + 1);
        if (j == std::string_view::npos) break;
        out.emplace_back(v.substr(i + 1, j - i - 1));
        i = j + 1;
    }
    return out;
}

} // namespace

std::vector<std::string> RuntimeOptions::command() const {
    std::vector<std::string> cmd = splitSpaces(binaryName);
    if (cmd.empty()) cmd.emplace_back("runc");
    cmd.insert(cmd.end(), runtimeArgs.begin(), runtimeArgs.end());
    return cmd;
}

std::string RuntimeOptions::toJson() const {
    std::string out = "{";
    auto field = [&](std::string_view k, std::string v) {
        if (out.size() > 1) out += ',';
        out += jsonQuote(k);
        out += ':';
        out += v;
    };
    if (noPivotRoot) field("no_pivot_root", "true");
    if (noNewKeyring) field("no_new_keyring", "true");
    if (!shimCgroup.empty()) field("shim_cgroup", jsonQuote(shimCgroup));
    std::string bin = binaryName;
    for (const auto& a : runtimeArgs)
        bin += (bin.empty() ? "runc " : " ") + a;
    if (!bin.empty()) field("binary_name", jsonQuote(bin));
    if (!root.empty()) field("root", jsonQuote(root));
    if (systemdCgroup) field("systemd_cgroup", "true");
    return out + "}";
}

RuntimeOptions RuntimeOptions::fromJson(std::string_view json) {
    RuntimeOptions o;
    o.binaryName = jsonString(json, "binary_name").value_or("");
    o.root = jsonString(json, "root").value_or("");
    o.shimCgroup = jsonString(json, "shim_cgroup").value_or("");
    o.systemdCgroup = json.find("\"systemd_cgroup\":true") != std::string_view::npos;
    return o;
}

std::string parseConfigFile(std::string_view text, RuntimeOptions& out) {
    size_t lineNo = 0;
    while (!text.empty()) {
        ++lineNo;
        auto nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.empty() || line.front() == '#' || line.front() == '[') continue;
        auto eq = line.find('=');
        if (eq == std::string_view::npos)
            return "line " + std::to_string(lineNo) + ": expected key = value";
        std::string_view key = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        auto unquote = [](std::string_view v) {
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            return std::string(v);
        };
        if (key == "BinaryName" || key == "binary_name") {
            out.binaryName = unquote(value);
        } else if (key == "Root" || key == "root") {
            out.root = unquote(value);
        } else if (key == "SystemdCgroup" || key == "systemd_cgroup") {
            out.systemdCgroup = value == "true";
        } else if (key == "NoPivotRoot" || key == "no_pivot_root") {
            out.noPivotRoot = value == "true";
        } else if (key == "NoNewKeyring" || key == "no_new_keyring") {
            out.noNewKeyring = value == "true";
        } else if (key == "RuntimeArgs" || key == "runtime_args") {
            out.runtimeArgs = parseStringArray(value);
        } else if (key == "ShimCgroup" || key == "shim_cgroup") {
            out.shimCgroup = unquote(value);
        } else {
            return "line " + std::to_string(lineNo) + ": unknown option " + std::string(key);
        }
    }
    return {};
}

std::string decodeOptions(std::string_view anyBytes, RuntimeOptions& out) {
    pb::Message a;
    if (!a.parse(anyBytes)) return "options: malformed Any";
    std::string_view url = a.str(1);
    if (auto slash = url.rfind('/'); slash != std::string_view::npos) url = url.substr(slash + 1);
    if (url.empty()) return {};
    pb::Message m;
    if (!m.parse(a.str(2))) return "options: malformed " + std::string(url);
    if (url == kRuncOptions) {
        out.noPivotRoot = m.boolean(1);
        out.noNewKeyring = m.boolean(2);
        out.shimCgroup = std::string(m.str(3));
        out.binaryName = std::string(m.str(6));
        out.root = std::string(m.str(7));
        out.systemdCgroup = m.boolean(9);
        out.criuWorkPath = std::string(m.str(11));
        return {};
    }
    if (url == kRuntimeOptions) {
        std::string path(m.str(2));
        if (path.empty()) return {};
        auto text = readFile(path);
        if (!text) return "options: cannot read runtime config " + path;
        std::string err = parseConfigFile(*text, out);
        return err.empty() ? err : "options: " + path + ": " + err;
    }
    return "options: unsupported options type " + std::string(a.str(1));
}

int exitStatus(int ws) {
    if (WIFEXITED(ws)) return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
    return 255;
}

Runtime::Runtime(RuntimeOptions opts, const std::string& ns, std::string bundle)
    : opts_(std::move(opts)), command_(opts_.command()), bundle_(std::move(bundle)) {
    root_ = (opts_.root.empty() ? std::string("/run/containerd/runc") : opts_.root) + "/" + ns;
    log_ = bundle_ + "/log.json";
}

Runtime::Result Runtime::run(std::string_view verb, std::vector<std::string> args,
                             const int stdio[3]) {
    std::vector<std::string> argv = command_;
    for (const char* a : {"--root", root_.c_str(), "--log", log_.c_str(), "--log-format", "json"})
        argv.emplace_back(a);
    if (opts_.systemdCgroup) argv.emplace_back("--systemd-cgroup");
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);

    struct stat st {};
    size_t logStart = ::stat(log_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;

    int out[2] = {-1, -1};
    if (!stdio && ::pipe2(out, O_CLOEXEC) != 0)
        return {false, "pipe: " + std::string(strerror(errno)), {}};
    Fd readEnd(out[0]), writeEnd(out[1]);
    Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));

    pid_t pid = ::fork();
    if (pid < 0) return {false, "fork: " + std::string(strerror(errno)), {}};
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        int fds[3];
        for (int i = 0; i < 3; ++i)
            fds[i] = stdio ? (stdio[i] >= 0 ? stdio[i] : devnull.get())
                           : (i == 0 ? devnull.get() : writeEnd.get());
        // dup first to numbers above 2 so a source fd that is itself 0..2 is not clobbered.
        int tmp[3];
        for (int i = 0; i < 3; ++i)
            tmp[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
        for (int i = 0; i < 3; ++i)
            ::dup2(tmp[i], i);
        ::execvp(cargv[0], cargv.data());
        std::string msg = "exec " + argv[0] + ": " + strerror(errno) + "\n";
        ssize_t ignored = ::write(2, msg.data(), msg.size());
        (void)ignored;
        ::_exit(127);
    }
    writeEnd.reset();
    std::string output;
    if (readEnd) {
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(readEnd.get(), buf, sizeof buf);
            if (n > 0) {
                output.append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
    }
    int ws = 0;
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) return {true, {}, std::move(output)};

    std::string msg = lastRuntimeError(log_, logStart);
    if (msg.empty()) msg = std::string(trim(output));
    if (msg.empty()) {
        msg = WIFEXITED(ws) && WEXITSTATUS(ws) == 127
                  ? "cannot execute " + command_.front()
                  : "exit status " + std::to_string(exitStatus(ws));
    }
    // runc's own message already says "runc create failed: ..."; others get the same shape.
    std::string base = command_.front().substr(command_.front().rfind('/') + 1);
    if (msg.rfind(base, 0) != 0) msg = base + " " + std::string(verb) + " failed: " + msg;
    return {false, std::move(msg), std::move(output)};
}

Runtime::Result Runtime::create(const std::string& id, const int stdio[3],
                                const std::string& consoleSocket) {
    std::vector<std::string> args = {"create", "--bundle", bundle_, "--pid-file",
                                     bundle_ + "/init.pid"};
    if (!consoleSocket.empty()) {
        args.emplace_back("--console-socket");
        args.push_back(consoleSocket);
    }
    if (opts_.noPivotRoot) args.emplace_back("--no-pivot");
    if (opts_.noNewKeyring) args.emplace_back("--no-new-keyring");
    args.push_back(id);
    return run("create", std::move(args), stdio);
}

Runtime::Result Runtime::start(const std::string& id) {
    return run("start", {"start", id}, nullptr);
}

Runtime::Result Runtime::exec(const std::string& id, const std::string& processJson,
                              const std::string& pidFile, const int stdio[3],
                              const std::string& consoleSocket) {
    std::vector<std::string> args = {"exec",     "--process",  processJson,
                                     "--detach", "--pid-file", pidFile};
    if (!consoleSocket.empty()) {
        args.emplace_back("--console-socket");
        args.push_back(consoleSocket);
    }
    args.push_back(id);
    return run("exec", std::move(args), stdio);
}

Runtime::Result Runtime::kill(const std::string& id, int signal, bool all) {
    std::vector<std::string> args = {"kill"};
    if (all) args.emplace_back("--all");
    args.push_back(id);
    args.push_back(std::to_string(signal));
    return run("kill", std::move(args), nullptr);
}

Runtime::Result Runtime::remove(const std::string& id, bool force) {
    std::vector<std::string> args = {"delete"};
    if (force) args.emplace_back("--force");
    args.push_back(id);
    return run("delete", std::move(args), nullptr);
}

Runtime::Result Runtime::pause(const std::string& id) {
    return run("pause", {"pause", id}, nullptr);
}
Runtime::Result Runtime::resume(const std::string& id) {
    return run("resume", {"resume", id}, nullptr);
}

Runtime::Result Runtime::update(const std::string& id, const std::string& resourcesJson) {
    return run("update", {"update", "--resources", resourcesJson, id}, nullptr);
}

Runtime::Result Runtime::ps(const std::string& id) {
    return run("ps", {"ps", "--format", "json", id}, nullptr);
}

} // namespace gantry::shim
