#include "shims/gantry-shim/checkpoint.hpp"

#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/service.hpp"
#include "shims/gantry-shim/util.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::shim {

namespace {

constexpr std::string_view kCheckpointOptions = "containerd.runc.v1.CheckpointOptions";

int removeEntry(const char* path, const struct stat*, int, FTW*) {
    ::remove(path);
    return 0;
}

// Removes a directory tree the shim made itself (CRIU's private work dir).
void removeTree(const std::string& dir) {
    ::nftw(dir.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
}

// The first line of a runtime error: runc's CRIU errors go on with "log file: ..." lines.
std::string firstLine(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

// Keeps CRIU's log where a person can find it after the work dir is gone (as the runc shim does
// with criu-dump.log), and returns the message that names it.
std::string keepCriuLog(const std::string& workDir, std::string_view logName,
                        const std::string& keptPath) {
    const std::string log = workDir + "/" + std::string(logName);
    auto text = readFile(log);
    if (!text) return {};
    if (!writeFile(keptPath, *text)) return log;
    return keptPath;
}

std::string failureMessage(std::string_view what, const std::string& runtimeError,
                           const std::string& criu, const std::string& logPath) {
    std::string msg = std::string(what) + ": " + firstLine(runtimeError);
    if (!criu.empty()) msg += ": CRIU: " + criu;
    if (!logPath.empty()) msg += " (CRIU log: " + logPath + ")";
    return msg;
}

} // namespace

std::string decodeCheckpointOptions(std::string_view anyBytes, CheckpointOptions& out) {
    pb::Message a;
    if (!a.parse(anyBytes)) return "checkpoint options: malformed Any";
    std::string_view url = a.str(1);
    if (auto slash = url.rfind('/'); slash != std::string_view::npos) url = url.substr(slash + 1);
    if (url.empty()) return {};
    if (url != kCheckpointOptions)
        return "checkpoint options: unsupported type " + std::string(a.str(1)) + " (expected " +
               std::string(kCheckpointOptions) + ")";
    pb::Message m;
    if (!m.parse(a.str(2))) return "checkpoint options: malformed " + std::string(url);
    out.exit = m.boolean(1);
    out.openTcp = m.boolean(2);
    out.externalUnixSockets = m.boolean(3);
    out.terminal = m.boolean(4);
    out.fileLocks = m.boolean(5);
    for (auto ns : m.repeated(6))
        out.emptyNamespaces.emplace_back(ns);
    out.cgroupsMode = std::string(m.str(7));
    out.imagePath = std::string(m.str(8));
    out.workPath = std::string(m.str(9));
    return {};
}

std::vector<std::string> checkpointArgs(const CheckpointOptions& o, const std::string& imagePath,
                                        const std::string& workPath, const std::string& id) {
    std::vector<std::string> args = {"checkpoint", "--image-path", imagePath};
    if (!workPath.empty()) {
        args.emplace_back("--work-path");
        args.push_back(workPath);
    }
    if (!o.exit) args.emplace_back("--leave-running");
    if (o.openTcp) args.emplace_back("--tcp-established");
    if (o.externalUnixSockets) args.emplace_back("--ext-unix-sk");
    if (o.terminal) args.emplace_back("--shell-job");
    if (o.fileLocks) args.emplace_back("--file-locks");
    for (const auto& ns : o.emptyNamespaces) {
        args.emplace_back("--empty-ns");
        args.push_back(ns);
    }
    if (!o.cgroupsMode.empty()) {
        args.emplace_back("--manage-cgroups-mode");
        args.push_back(o.cgroupsMode);
    }
    args.push_back(id);
    return args;
}

std::vector<std::string> restoreArgs(const RestoreParams& p, const std::string& id) {
    std::vector<std::string> args = {"restore", "--detach", "--image-path", p.imagePath};
    if (!p.workPath.empty()) {
        args.emplace_back("--work-path");
        args.push_back(p.workPath);
    }
    args.emplace_back("--bundle");
    args.push_back(p.bundle);
    args.emplace_back("--pid-file");
    args.push_back(p.pidFile);
    if (!p.consoleSocket.empty()) {
        args.emplace_back("--console-socket");
        args.push_back(p.consoleSocket);
    }
    if (p.noPivot) args.emplace_back("--no-pivot");
    args.push_back(id);
    return args;
}

std::string criuErrorsFromText(std::string_view log, size_t maxLines) {
    std::string out;
    size_t found = 0;
    while (!log.empty() && found < maxLines) {
        auto nl = log.find('\n');
        std::string_view line = log.substr(0, nl);
        log = nl == std::string_view::npos ? std::string_view{} : log.substr(nl + 1);
        // "(00.180499) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds"
        auto e = line.find("Error (");
        if (e == std::string_view::npos) continue;
        std::string_view msg = line.substr(e);
        if (auto close = msg.find("): "); close != std::string_view::npos)
            msg = msg.substr(close + 3);
        msg = trim(msg);
        if (msg.empty()) continue;
        if (!out.empty()) out += "; ";
        out += msg;
        ++found;
    }
    return out;
}

std::string criuErrors(const std::string& logPath, size_t maxLines) {
    auto text = readFile(logPath);
    return text ? criuErrorsFromText(*text, maxLines) : std::string();
}

Runtime::Result Runtime::checkpoint(std::vector<std::string> args) {
    return run("checkpoint", std::move(args), nullptr);
}

Runtime::Result Runtime::restore(std::vector<std::string> args, const int stdio[3]) {
    return run("restore", std::move(args), stdio);
}

void Service::checkpoint(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), {}, err);
    if (!p) return server_.fail(call, err);
    // The runc shim's rules and words (protocol-facts §10.8).
    if (p->state == State::Created)
        return server_.fail(call, {ttrpc::Unknown, "cannot checkpoint a task in created state"});
    if (p->state == State::Stopped)
        return server_.fail(call, {ttrpc::Unknown, "cannot checkpoint a stopped container"});
    const std::string imagePath(m.str(2));
    if (imagePath.empty())
        return server_.fail(call,
                            {ttrpc::InvalidArgument, "checkpoint: an image path is required"});
    CheckpointOptions opts;
    if (std::string e = decodeCheckpointOptions(m.str(3), opts); !e.empty())
        return server_.fail(call, {ttrpc::InvalidArgument, e});
    if (::mkdir(imagePath.c_str(), 0700) != 0 && errno != EEXIST)
        return server_.fail(
            call, {ttrpc::Unknown, "checkpoint: mkdir " + imagePath + ": " + std::strerror(errno)});
    // Without a work path from the client, CRIU works in a private dir that goes afterwards.
    const bool ownWork = opts.workPath.empty();
    const std::string work = ownWork ? bundle_ + "/criu-work" : opts.workPath;
    if (ownWork) removeTree(work);
    if (::mkdir(work.c_str(), 0700) != 0 && errno != EEXIST)
        return server_.fail(
            call, {ttrpc::Unknown, "checkpoint: mkdir " + work + ": " + std::strerror(errno)});
    auto r = runtime_->checkpoint(checkpointArgs(opts, imagePath, work, p->id));
    if (!r.ok) {
        const std::string criu = criuErrors(work + "/dump.log");
        const std::string kept = ownWork ? keepCriuLog(work, "dump.log", bundle_ + "/criu-dump.log")
                                         : work + "/dump.log";
        if (ownWork) removeTree(work);
        return server_.fail(
            call, {ttrpc::Unknown, failureMessage("OCI runtime checkpoint failed", r.error, criu,
                                                  criu.empty() && kept.empty() ? "" : kept)});
    }
    if (ownWork) removeTree(work);
    // With `exit` the runtime stopped the container: its exit arrives through SIGCHLD as usual.
    server_.reply(call, {});
}

void Service::restore(ttrpc::Call call, Process& p) {
    ProcessIo io;
    if (std::string e = openProcessIo(p.stdinPath, p.stdoutPath, p.stderrPath, p.terminal, io);
        !e.empty())
        return server_.fail(call, {ttrpc::Unknown, "failed to create shim task io: " + e});
    const std::string pidFile = bundle_ + "/init.pid";
    ::unlink(pidFile.c_str());
    RestoreParams rp;
    rp.imagePath = p.checkpoint;
    rp.workPath = runtime_->options().criuWorkPath;
    const bool ownWork = rp.workPath.empty();
    if (ownWork) {
        rp.workPath = bundle_ + "/criu-work";
        removeTree(rp.workPath);
        ::mkdir(rp.workPath.c_str(), 0700);
    }
    rp.bundle = bundle_;
    rp.pidFile = pidFile;
    rp.consoleSocket = io.consolePath;
    rp.noPivot = runtime_->options().noPivotRoot;
    auto r = runtime_->restore(restoreArgs(rp, p.id), io.runtimeStdio);
    if (!r.ok) {
        const std::string criu = criuErrors(rp.workPath + "/restore.log");
        const std::string kept =
            ownWork ? keepCriuLog(rp.workPath, "restore.log", bundle_ + "/criu-restore.log")
                    : rp.workPath + "/restore.log";
        if (ownWork) removeTree(rp.workPath);
        runtime_->remove(p.id, true); // a half-restored container must not linger
        // Still `created` from the checkpoint: a later Start may try again, Delete cleans up.
        return server_.fail(
            call, {ttrpc::Unknown, failureMessage("OCI runtime restore failed", r.error, criu,
                                                  criu.empty() && kept.empty() ? "" : kept)});
    }
    if (ownWork) removeTree(rp.workPath);
    auto text = readFile(pidFile);
    long pid = text ? std::strtol(std::string(trim(*text)).c_str(), nullptr, 10) : 0;
    if (pid <= 0) {
        runtime_->remove(p.id, true);
        return server_.fail(call,
                            {ttrpc::Unknown, "OCI runtime restore failed: no pid in " + pidFile});
    }
    p.pid = static_cast<int>(pid);
    p.checkpoint.clear();
    if (std::string e = startIo(p, io); !e.empty()) {
        runtime_->remove(p.id, true);
        return server_.fail(call, {ttrpc::Unknown, "failed to set up the terminal: " + e});
    }
    if (p.state == State::Created) p.state = State::Running;
    watchInitOom();
    pb::Writer ev;
    ev.str(1, p.id);
    ev.u64(2, static_cast<uint32_t>(p.pid));
    publish("/tasks/start", "TaskStart", ev);
    pb::Writer resp;
    resp.u64(1, static_cast<uint32_t>(p.pid));
    server_.reply(call, resp.data());
}

} // namespace gantry::shim
