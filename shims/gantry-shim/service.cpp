#include "shims/gantry-shim/service.hpp"

#include "shims/gantry-shim/cgroups.hpp"
#include "shims/gantry-shim/rootfs.hpp"
#include "shims/gantry-shim/util.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::shim {

namespace {

constexpr std::string_view kService = "containerd.task.v2.Task";

ttrpc::Status notFound(std::string msg) {
    return {ttrpc::NotFound, std::move(msg)};
}
ttrpc::Status unknown(std::string msg) {
    return {ttrpc::Unknown, std::move(msg)};
}

std::string_view stateName(State s) {
    switch (s) {
    case State::Created:
        return "created";
    case State::Running:
        return "running";
    case State::Stopped:
        return "stopped";
    case State::Paused:
        return "paused";
    case State::Pausing:
        return "pausing";
    default:
        return "unknown";
    }
}

std::optional<int> readPid(const std::string& path) {
    auto text = readFile(path);
    if (!text) return std::nullopt;
    std::string t(trim(*text));
    if (t.empty()) return std::nullopt;
    char* end = nullptr;
    long v = std::strtol(t.c_str(), &end, 10);
    if (*end != '\0' || v <= 0) return std::nullopt;
    return static_cast<int>(v);
}

} // namespace

Service::Service(Loop& loop, ttrpc::Server& server, Publisher& events, std::string ns,
                 std::string bundle)
    : loop_(loop), server_(server), events_(events), ns_(std::move(ns)),
      bundle_(std::move(bundle)) {}

Service::~Service() {
    unwatchOom();
}

void Service::publish(std::string_view topic, std::string_view type, const pb::Writer& event) {
    events_.publish(topic, type, event.data());
}

void Service::handle(ttrpc::Call call, const ttrpc::Request& req) {
    if (req.service != kService) {
        server_.fail(call, {ttrpc::Unimplemented, "service " + std::string(req.service)});
        return;
    }
    pb::Message m;
    if (!m.parse(req.payload)) {
        server_.fail(call,
                     {ttrpc::Internal, "failed to decode " + std::string(req.method) + " request"});
        return;
    }
    const std::string_view method = req.method;
    if (method == "Create") return create(call, m);
    if (method == "Start") return start(call, m);
    if (method == "Delete") return remove(call, m);
    if (method == "Exec") return exec(call, m);
    if (method == "State") return state(call, m);
    if (method == "Kill") return kill(call, m);
    if (method == "Pids") return pids(call, m);
    if (method == "Wait") return wait(call, m);
    if (method == "Stats") return stats(call, m);
    if (method == "Pause") return pauseResume(call, m, true);
    if (method == "Resume") return pauseResume(call, m, false);
    if (method == "ResizePty") return resizePty(call, m);
    if (method == "CloseIO") return closeIo(call, m);
    if (method == "Update") return update(call, m);
    if (method == "Connect") return connect(call, m);
    if (method == "Shutdown") return shutdown(call, m);
    if (method == "Checkpoint") return checkpoint(call, m);
    server_.fail(call, {ttrpc::Unimplemented, "method " + std::string(method)});
}

Process* Service::find(std::string_view id, std::string_view execId, ttrpc::Status& err) {
    if (!init_ || init_->id != id) {
        err = notFound("container not created");
        return nullptr;
    }
    if (execId.empty()) return init_.get();
    auto it = execs_.find(std::string(execId));
    if (it == execs_.end()) {
        err = notFound("process does not exist " + std::string(execId));
        return nullptr;
    }
    return it->second.get();
}

// After the runtime created the process: the runtime's copies of the stdio fds are dropped, and
// stdin (and a terminal) get their pumps.
std::string Service::startIo(Process& p, ProcessIo& io) {
    io.passed.clear();
    if (p.terminal) {
        std::string err;
        Fd master = receiveConsole(io, err);
        if (!master) return err;
        if (io.stdinFifo) {
            p.stdinPump = std::make_unique<Pump>(loop_, std::move(io.stdinFifo),
                                                 Fd(::fcntl(master.get(), F_DUPFD_CLOEXEC, 3)));
        }
        if (io.stdoutFifo) {
            p.outputPump = std::make_unique<Pump>(
                loop_, Fd(::fcntl(master.get(), F_DUPFD_CLOEXEC, 3)), std::move(io.stdoutFifo));
        }
        p.console = std::move(master);
    } else if (io.stdinFifo) {
        p.stdinPump =
            std::make_unique<Pump>(loop_, std::move(io.stdinFifo), std::move(io.stdinPipe));
    }
    return {};
}

void Service::create(ttrpc::Call call, const pb::Message& m) {
    if (init_) {
        server_.fail(call, {ttrpc::AlreadyExists, "container " + init_->id + ": already exists"});
        return;
    }
    std::string id(m.str(1));
    std::string bundle(m.str(2));
    if (id.empty()) return server_.fail(call, {ttrpc::InvalidArgument, "id must not be empty"});
    if (!bundle.empty()) bundle_ = bundle;

    RuntimeOptions opts;
    if (std::string err = decodeOptions(m.str(10), opts); !err.empty())
        return server_.fail(call, {ttrpc::InvalidArgument, err});
    writeFileAtomic(bundle_ + "/options.json", opts.toJson());
    // For history's sake the runc shim also writes the binary name on its own (§10.2).
    writeFileAtomic(bundle_ + "/runtime", opts.binaryName);
    auto rt = std::make_unique<Runtime>(opts, ns_, bundle_);

    std::vector<MountSpec> mounts;
    for (std::string_view raw : m.repeated(3)) {
        pb::Message mm;
        if (!mm.parse(raw))
            return server_.fail(call, {ttrpc::InvalidArgument, "malformed rootfs mount"});
        MountSpec spec{std::string(mm.str(1)), std::string(mm.str(2)), {}};
        for (auto o : mm.repeated(4))
            spec.options.emplace_back(o);
        mounts.push_back(std::move(spec));
    }
    const std::string rootfs = bundle_ + "/rootfs";
    if (!mounts.empty()) {
        if (::mkdir(rootfs.c_str(), 0711) != 0 && errno != EEXIST)
            return server_.fail(call, unknown("mkdir " + rootfs + ": " + strerror(errno)));
        if (std::string err = mountAll(mounts, rootfs); !err.empty())
            return server_.fail(call, unknown(err));
    }
    auto fail = [&](ttrpc::Status st) {
        if (!mounts.empty()) unmountAll(rootfs);
        server_.fail(call, st);
    };
    auto p = std::make_unique<Process>();
    p->id = id;
    p->init = true;
    p->stdinPath = std::string(m.str(5));
    p->stdoutPath = std::string(m.str(6));
    p->stderrPath = std::string(m.str(7));
    p->terminal = m.boolean(4);
    p->checkpoint = std::string(m.str(8));

    // From a checkpoint, as the runc shim does: nothing runs until Start restores it.
    if (!p->checkpoint.empty()) {
        runtime_ = std::move(rt);
        init_ = std::move(p);
        publishCreate(m);
        pb::Writer resp;
        return server_.reply(call, resp.data());
    }

    ProcessIo io;
    if (std::string err =
            openProcessIo(p->stdinPath, p->stdoutPath, p->stderrPath, p->terminal, io);
        !err.empty())
        return fail(unknown("failed to create shim task io: " + err));
    ::unlink((bundle_ + "/init.pid").c_str());
    auto r = rt->create(id, io.runtimeStdio, io.consolePath);
    if (!r.ok) {
        rt->remove(id, true); // a half-created container must not linger in the runtime's root
        return fail(unknown("OCI runtime create failed: " + r.error));
    }
    auto pid = readPid(bundle_ + "/init.pid");
    if (!pid) {
        rt->remove(id, true);
        return fail(unknown("OCI runtime create failed: no pid in " + bundle_ + "/init.pid"));
    }
    p->pid = *pid;
    if (std::string err = startIo(*p, io); !err.empty()) {
        rt->remove(id, true);
        return fail(unknown("failed to set up the terminal: " + err));
    }
    runtime_ = std::move(rt);
    init_ = std::move(p);
    watchInitOom();
    publishCreate(m);

    pb::Writer resp;
    resp.u64(1, static_cast<uint32_t>(init_->pid));
    server_.reply(call, resp.data());
}

void Service::watchInitOom() {
    oomEvent_ = watchOom(init_->pid, oomControl_);
    if (oomEvent_) {
        loop_.add(oomEvent_.get(), EPOLLIN, [this](uint32_t) {
            uint64_t n = 0;
            ssize_t ignored = ::read(oomEvent_.get(), &n, sizeof n);
            (void)ignored;
            // The event also fires when the cgroup is removed; only a live cgroup had an OOM.
            if (::access(oomControl_.c_str(), F_OK) != 0) return unwatchOom();
            pb::Writer ev;
            ev.str(1, init_ ? init_->id : std::string());
            publish("/tasks/oom", "TaskOOM", ev);
        });
    }
}

void Service::publishCreate(const pb::Message& m) {
    pb::Writer ev;
    ev.str(1, init_->id);
    ev.str(2, bundle_);
    for (std::string_view raw : m.repeated(3))
        ev.bytesAlways(3, raw);
    pb::Writer tio;
    tio.str(1, init_->stdinPath);
    tio.str(2, init_->stdoutPath);
    tio.str(3, init_->stderrPath);
    tio.boolean(4, init_->terminal);
    ev.msg(4, tio);
    ev.str(5, m.str(8));
    ev.u64(6, static_cast<uint32_t>(init_->pid));
    publish("/tasks/create", "TaskCreate", ev);
}

void Service::start(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), m.str(2), err);
    if (!p) return server_.fail(call, err);
    if (p->state != State::Created)
        return server_.fail(
            call, unknown("cannot start a " + std::string(stateName(p->state)) + " process"));
    if (p->init && !p->checkpoint.empty()) return restore(call, *p);
    if (p->init) {
        auto r = runtime_->start(p->id);
        if (!r.ok) return server_.fail(call, unknown("OCI runtime start failed: " + r.error));
        if (p->state == State::Created) p->state = State::Running;
        pb::Writer ev;
        ev.str(1, p->id);
        ev.u64(2, static_cast<uint32_t>(p->pid));
        publish("/tasks/start", "TaskStart", ev);
    } else {
        if (init_->state != State::Running && init_->state != State::Created)
            return server_.fail(call, unknown("cannot start an exec in a " +
                                              std::string(stateName(init_->state)) + " container"));
        const std::string specPath = bundle_ + "/.exec-" + p->id + ".json";
        const std::string pidPath = bundle_ + "/.exec-" + p->id + ".pid";
        if (!writeFile(specPath, p->spec))
            return server_.fail(call, unknown("write " + specPath + ": " + strerror(errno)));
        ProcessIo io;
        if (std::string e =
                openProcessIo(p->stdinPath, p->stdoutPath, p->stderrPath, p->terminal, io);
            !e.empty())
            return server_.fail(call, unknown("failed to create exec io: " + e));
        ::unlink(pidPath.c_str());
        auto r = runtime_->exec(init_->id, specPath, pidPath, io.runtimeStdio, io.consolePath);
        ::unlink(specPath.c_str());
        auto pid = r.ok ? readPid(pidPath) : std::nullopt;
        ::unlink(pidPath.c_str());
        if (!r.ok) return server_.fail(call, unknown("OCI runtime exec failed: " + r.error));
        if (!pid) return server_.fail(call, unknown("OCI runtime exec failed: no pid file"));
        p->pid = *pid;
        p->state = State::Running;
        if (std::string e = startIo(*p, io); !e.empty()) {
            ::kill(p->pid, SIGKILL);
            return server_.fail(call, unknown("failed to set up the terminal: " + e));
        }
        pb::Writer ev;
        ev.str(1, init_->id);
        ev.str(2, p->id);
        ev.u64(3, static_cast<uint32_t>(p->pid));
        publish("/tasks/exec-started", "TaskExecStarted", ev);
    }
    pb::Writer resp;
    resp.u64(1, static_cast<uint32_t>(p->pid));
    server_.reply(call, resp.data());
}

void Service::exec(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    if (!find(m.str(1), {}, err)) return server_.fail(call, err);
    std::string execId(m.str(2));
    if (execId.empty())
        return server_.fail(call, {ttrpc::InvalidArgument, "exec id must not be empty"});
    if (execs_.count(execId))
        return server_.fail(call, {ttrpc::AlreadyExists, "id " + execId + ": already exists"});
    if (!init_->checkpoint.empty())
        return server_.fail(call, unknown("cannot exec in a created state"));
    if (init_->state == State::Stopped || init_->state == State::Paused)
        return server_.fail(
            call, unknown("cannot exec in a " + std::string(stateName(init_->state)) + " state"));
    pb::Message spec;
    if (!spec.parse(m.str(7)) || spec.str(2).empty())
        return server_.fail(call, {ttrpc::InvalidArgument, "exec: a process spec is required"});
    auto p = std::make_unique<Process>();
    p->id = execId;
    p->terminal = m.boolean(3);
    p->stdinPath = std::string(m.str(4));
    p->stdoutPath = std::string(m.str(5));
    p->stderrPath = std::string(m.str(6));
    p->spec = std::string(spec.str(2));
    execs_[execId] = std::move(p);
    pb::Writer ev;
    ev.str(1, init_->id);
    ev.str(2, execId);
    publish("/tasks/exec-added", "TaskExecAdded", ev);
    server_.reply(call, {});
}

void Service::state(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), m.str(2), err);
    if (!p) return server_.fail(call, err);
    pb::Writer r;
    r.str(1, p->id);
    r.str(2, bundle_);
    r.u64(3, static_cast<uint32_t>(p->pid));
    r.u64(4, static_cast<uint32_t>(p->state));
    r.str(5, p->stdinPath);
    r.str(6, p->stdoutPath);
    r.str(7, p->stderrPath);
    r.boolean(8, p->terminal);
    r.u64(9, p->exitStatus);
    if (p->state == State::Stopped) r.msg(10, timestamp(p->exitedAt));
    server_.reply(call, r.data());
}

void Service::kill(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), m.str(2), err);
    if (!p) return server_.fail(call, err);
    int sig = static_cast<int>(m.u64(3));
    bool all = m.boolean(4);
    if (p->state == State::Stopped && !(p->init && all))
        return server_.fail(call, notFound("process already finished"));
    if (p->init && !p->checkpoint.empty() && p->state == State::Created) {
        // Not restored yet: there is no process to signal, only one that will never run.
        if (sig != 0) markExited(*p, 128 + sig);
        return server_.reply(call, {});
    }
    if (!p->init) {
        if (p->pid <= 0)
            return server_.fail(call, {ttrpc::FailedPrecondition, "process not started"});
        if (::kill(p->pid, sig) != 0)
            return server_.fail(call, errno == ESRCH
                                          ? notFound("process already finished")
                                          : unknown(std::string("kill: ") + strerror(errno)));
        return server_.reply(call, {});
    }
    auto r = runtime_->kill(p->id, sig, all);
    if (!r.ok && sig == SIGKILL && p->state == State::Created) {
        // runsc cannot signal a created container; its init pid can be killed directly (the exit
        // is then reaped like any other).
        if (p->pid > 0 && ::kill(p->pid, SIGKILL) == 0) return server_.reply(call, {});
    }
    if (!r.ok) {
        // The runtime refuses a container whose init just exited but is not reaped yet.
        if (r.error.find("not running") != std::string::npos ||
            r.error.find("does not exist") != std::string::npos || p->state == State::Stopped)
            return server_.fail(call, notFound("process already finished"));
        return server_.fail(call, unknown(r.error));
    }
    server_.reply(call, {});
}

void Service::remove(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), m.str(2), err);
    if (!p) return server_.fail(call, err);
    if (!p->init) {
        if (p->state == State::Running)
            return server_.fail(call, unknown("cannot delete a running process"));
        pb::Writer r;
        r.u64(1, static_cast<uint32_t>(p->pid));
        r.u64(2, p->exitStatus);
        r.msg(3, timestamp(p->exitedAt));
        auto it = execs_.find(p->id);
        for (auto w : p->waiters)
            server_.fail(w, notFound("process deleted"));
        execs_.erase(it);
        return server_.reply(call, r.data());
    }
    if (p->state == State::Running || p->state == State::Paused || p->state == State::Pausing)
        return server_.fail(
            call, unknown("cannot delete a " + std::string(stateName(p->state)) + " process"));
    auto gone = [](const std::string& e) { return e.find("not exist") != std::string::npos; };
    auto r = runtime_->remove(p->id, p->state == State::Created);
    // The init process has exited, so nothing is lost by forcing: runsc's own teardown has
    // internal deadlines that a loaded machine can miss on the first, polite delete.
    if (!r.ok && !gone(r.error) && p->state == State::Stopped) r = runtime_->remove(p->id, true);
    if (!r.ok && !gone(r.error))
        return server_.fail(call, unknown("OCI runtime delete failed: " + r.error));
    unwatchOom();
    unmountAll(bundle_ + "/rootfs");
    if (p->state == State::Created) { // never started: the runtime killed it
        p->exitedAt = wallNow();
        p->exitStatus = 128 + SIGKILL;
        p->state = State::Stopped;
    }
    pb::Writer ev;
    ev.str(1, p->id);
    ev.u64(2, static_cast<uint32_t>(p->pid));
    ev.u64(3, p->exitStatus);
    ev.msg(4, timestamp(p->exitedAt));
    publish("/tasks/delete", "TaskDelete", ev);
    pb::Writer resp;
    resp.u64(1, static_cast<uint32_t>(p->pid));
    resp.u64(2, p->exitStatus);
    resp.msg(3, timestamp(p->exitedAt));
    for (auto& [id, e] : execs_)
        if (e->pid > 0 && e->state != State::Stopped) ::kill(e->pid, SIGKILL);
    execs_.clear();
    init_.reset();
    server_.reply(call, resp.data());
}

void Service::pids(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    if (!find(m.str(1), {}, err)) return server_.fail(call, err);
    auto r = runtime_->ps(init_->id);
    if (!r.ok) return server_.fail(call, unknown("failed to list processes: " + r.error));
    pb::Writer resp;
    const char* s = r.output.c_str();
    while (*s) {
        if (*s < '0' || *s > '9') {
            ++s;
            continue;
        }
        char* end = nullptr;
        long pid = std::strtol(s, &end, 10);
        s = end;
        pb::Writer info;
        info.u64(1, static_cast<uint32_t>(pid));
        for (const auto& [id, e] : execs_) {
            if (e->pid != pid) continue;
            pb::Writer details;
            details.str(1, id);
            info.msg(2, any("containerd.runc.v1.ProcessDetails", details.data()));
        }
        resp.msg(1, info);
    }
    server_.reply(call, resp.data());
}

void Service::wait(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), m.str(2), err);
    if (!p) return server_.fail(call, err);
    if (p->state != State::Stopped) {
        p->waiters.push_back(call); // answered from onExit, without holding up the loop
        return;
    }
    pb::Writer r;
    r.u64(1, p->exitStatus);
    r.msg(2, timestamp(p->exitedAt));
    server_.reply(call, r.data());
}

void Service::onExit(int pid, int waitStatus) {
    Process* p = nullptr;
    if (init_ && init_->pid == pid) p = init_.get();
    for (auto& [id, e] : execs_)
        if (!p && e->pid == pid && e->state != State::Stopped) p = e.get();
    if (!p || p->state == State::Stopped) return;
    markExited(*p, exitStatus(waitStatus));
}

void Service::markExited(Process& proc, int status) {
    Process* p = &proc;
    const int pid = p->pid;
    p->state = State::Stopped;
    p->exitStatus = static_cast<uint32_t>(status);
    p->exitedAt = wallNow();
    pb::Writer ev;
    ev.str(1, init_->id);
    ev.str(2, p->id);
    ev.u64(3, static_cast<uint32_t>(pid));
    ev.u64(4, p->exitStatus);
    ev.msg(5, timestamp(p->exitedAt));
    publish("/tasks/exit", "TaskExit", ev);
    pb::Writer r;
    r.u64(1, p->exitStatus);
    r.msg(2, timestamp(p->exitedAt));
    for (auto w : p->waiters)
        server_.reply(w, r.data());
    p->waiters.clear();
    if (p->init) {
        // Execs cannot outlive the init's pid namespace; make sure of it for hosts sharing one.
        for (auto& [id, e] : execs_)
            if (e->pid > 0 && e->state != State::Stopped) ::kill(e->pid, SIGKILL);
    }
}

void Service::stats(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    if (!find(m.str(1), {}, err)) return server_.fail(call, err);
    if (init_->state == State::Stopped)
        return server_.fail(call, notFound("container is stopped: no cgroup to read"));
    std::string anyBytes;
    if (std::string e = cgroupMetrics(init_->pid, anyBytes); !e.empty())
        return server_.fail(call, unknown(e));
    pb::Writer r;
    r.bytesAlways(1, anyBytes);
    server_.reply(call, r.data());
}

void Service::pauseResume(ttrpc::Call call, const pb::Message& m, bool pause) {
    ttrpc::Status err;
    Process* p = find(m.str(1), {}, err);
    if (!p) return server_.fail(call, err);
    State need = pause ? State::Running : State::Paused;
    if (p->state != need)
        return server_.fail(call, unknown(std::string("cannot ") + (pause ? "pause" : "resume") +
                                          " a " + std::string(stateName(p->state)) + " process"));
    auto r = pause ? runtime_->pause(p->id) : runtime_->resume(p->id);
    if (!r.ok) return server_.fail(call, unknown(r.error));
    if (p->state == need) p->state = pause ? State::Paused : State::Running;
    pb::Writer ev;
    ev.str(1, p->id);
    if (pause) {
        publish("/tasks/paused", "TaskPaused", ev);
    } else {
        publish("/tasks/resumed", "TaskResumed", ev);
    }
    server_.reply(call, {});
}

void Service::resizePty(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), m.str(2), err);
    if (!p) return server_.fail(call, err);
    if (!p->console)
        return server_.fail(call, {ttrpc::FailedPrecondition, "process has no terminal"});
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(m.u64(3));
    ws.ws_row = static_cast<unsigned short>(m.u64(4));
    if (::ioctl(p->console.get(), TIOCSWINSZ, &ws) != 0)
        return server_.fail(call, unknown(std::string("resize terminal: ") + strerror(errno)));
    server_.reply(call, {});
}

void Service::closeIo(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), m.str(2), err);
    if (!p) return server_.fail(call, err);
    // Stop copying stdin once what the client wrote is through: the container then reads EOF.
    if (m.boolean(3) && p->stdinPump) p->stdinPump->finish();
    server_.reply(call, {});
}

void Service::update(ttrpc::Call call, const pb::Message& m) {
    ttrpc::Status err;
    Process* p = find(m.str(1), {}, err);
    if (!p) return server_.fail(call, err);
    if (p->state == State::Stopped)
        return server_.fail(call, unknown("cannot update a stopped container"));
    pb::Message res;
    if (!res.parse(m.str(2)))
        return server_.fail(call, {ttrpc::InvalidArgument, "malformed resources"});
    const std::string path = bundle_ + "/.resources.json";
    if (!writeFile(path, res.str(2)))
        return server_.fail(call, unknown("write " + path + ": " + strerror(errno)));
    auto r = runtime_->update(p->id, path);
    ::unlink(path.c_str());
    if (!r.ok) return server_.fail(call, unknown(r.error));
    server_.reply(call, {});
}

void Service::connect(ttrpc::Call call, const pb::Message& m) {
    pb::Writer r;
    r.u64(1, static_cast<uint32_t>(::getpid()));
    if (init_ && init_->id == m.str(1)) r.u64(2, static_cast<uint32_t>(init_->pid));
    server_.reply(call, r.data());
}

void Service::shutdown(ttrpc::Call call, const pb::Message& m) {
    server_.reply(call, {});
    if (init_ && !m.boolean(2)) return; // still serving a container
    shutdown_ = true;
    loop_.stop();
}

void Service::unwatchOom() {
    if (!oomEvent_) return;
    loop_.remove(oomEvent_.get());
    oomEvent_.reset();
}

} // namespace gantry::shim
