#include "cmd/gantry/task_io.hpp"

#include "services/tasks/v1/tasks.grpc.pb.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::cli {
namespace {

namespace tv1 = containerd::services::tasks::v1;

sigset_t forwarded_signals() {
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2})
        sigaddset(&sigs, s);
    return sigs;
}

bool is_fifo(const std::string& path) {
    struct stat st {};
    return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

bool write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// Copies the output FIFOs to their destinations until their writers are gone (POLLHUP comes
// only after a writer has opened and closed, so starting early is safe), or, once `stop_fd` is
// readable (the process exited), until nothing more arrives within a bounded time.
void copy_out(std::vector<std::pair<int, int>> pairs, int stop_fd) {
    char buf[16384];
    auto deadline = std::chrono::steady_clock::time_point::max();
    while (!pairs.empty()) {
        const bool stopping = deadline != std::chrono::steady_clock::time_point::max();
        std::vector<pollfd> fds;
        for (const auto& [from, to] : pairs)
            fds.push_back({from, POLLIN, 0});
        if (!stopping) fds.push_back({stop_fd, POLLIN, 0});
        int timeout = -1;
        if (stopping) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return;
            timeout = static_cast<int>(left.count());
        }
        const int r = ::poll(fds.data(), fds.size(), timeout);
        if (r < 0 && errno != EINTR) return;
        if (r <= 0) continue;
        if (!stopping && fds.back().revents != 0)
            deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        for (std::size_t i = pairs.size(); i-- > 0;) {
            if (fds[i].revents == 0) continue;
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (void)write_all(pairs[i].second, buf, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(i));
            }
        }
    }
}

void notify(int event_fd) {
    const std::uint64_t one = 1;
    (void)!::write(event_fd, &one, sizeof one);
}

} // namespace

void block_forwarded_signals() {
    const sigset_t sigs = forwarded_signals();
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
}

Result<std::unique_ptr<FifoSet>> FifoSet::create(const std::string& root, const std::string& id,
                                                 bool terminal) {
    std::unique_ptr<FifoSet> f(new FifoSet());
    std::error_code ec;
    // Absolute: the shim opens these paths from its own working directory.
    const auto abs_root = std::filesystem::absolute(root, ec);
    if (!ec) std::filesystem::create_directories(abs_root, ec);
    if (ec) return from_errno(ec.value(), "create fifo dir " + root);
    std::string tmpl = (abs_root / "XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        return from_errno(errno, "create a directory in " + root);
    f->dir_ = tmpl;
    f->config_.terminal = terminal;
    f->config_.in = (f->dir_ / (id + "-stdin")).string();
    f->config_.out = (f->dir_ / (id + "-stdout")).string();
    if (!terminal) f->config_.err = (f->dir_ / (id + "-stderr")).string();
    for (const auto* p : {&f->config_.in, &f->config_.out, &f->config_.err})
        if (!p->empty() && ::mkfifo(p->c_str(), 0700) != 0)
            return from_errno(errno, "mkfifo " + *p);
    return f;
}

FifoSet::~FifoSet() {
    std::error_code ec;
    if (!keep_ && !dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

Result<std::unique_ptr<StdioCopier>> StdioCopier::open(const StdioConfig& config) {
    std::unique_ptr<StdioCopier> c(new StdioCopier());
    const std::pair<const std::string*, int> outs[] = {
        {&config.out, 1}, {config.terminal ? nullptr : &config.err, 2}};
    for (const auto& [path, dest] : outs) {
        if (path == nullptr || !is_fifo(*path)) continue;
        fs::UniqueFd fd(::open(path->c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (!fd) return from_errno(errno, "open " + *path);
        c->outs_.push_back(std::move(fd));
        c->out_dest_.push_back(dest);
    }
    if (is_fifo(config.in)) {
        // Read-write, so that opening never waits for the shim's reader.
        c->in_.reset(::open(config.in.c_str(), O_RDWR | O_CLOEXEC));
        if (!c->in_) return from_errno(errno, "open " + config.in);
    }
    return c;
}

void StdioCopier::start(std::function<void()> on_stdin_eof) {
    stop_fd_.reset(::eventfd(0, EFD_CLOEXEC));
    std::vector<std::pair<int, int>> pairs;
    for (std::size_t i = 0; i < outs_.size(); ++i)
        pairs.emplace_back(outs_[i].get(), out_dest_[i]);
    if (!pairs.empty()) threads_.emplace_back(copy_out, std::move(pairs), stop_fd_.get());
    if (!in_) return;
    threads_.emplace_back([this, on_eof = std::move(on_stdin_eof)] {
        char buf[16384];
        for (;;) {
            pollfd p[2] = {{0, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
            const int r = ::poll(p, 2, -1);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 || p[1].revents != 0) break;
            const ssize_t n = ::read(0, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0 || !write_all(in_.get(), buf, static_cast<std::size_t>(n))) break;
        }
        // What we wrote may still sit in the FIFO: the shim copies it before acting on CloseIO.
        if (!stop_ && on_eof) on_eof();
        in_.reset();
    });
}

void StdioCopier::finish() {
    stop_ = true;
    if (stop_fd_) notify(stop_fd_.get());
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

StdioCopier::~StdioCopier() {
    finish();
}

RawTerminal::RawTerminal() {
    if (::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
}

RawTerminal::~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
}

Result<std::uint32_t> attach_and_wait(const ProcessRef& process, const AttachOptions& options,
                                      const std::function<Status()>& start) {
    const Client& client = process.client;
    auto tasks = tv1::Tasks::NewStub(client.channel());

    tv1::WaitResponse waited;
    grpc::Status wait_status;
    const fs::UniqueFd exited(::eventfd(0, EFD_CLOEXEC)); // readable once Wait returned
    if (!exited) return from_errno(errno, "eventfd");
    grpc::ClientContext wait_ctx;
    client.prepare(wait_ctx);
    std::thread wait_thread([&] {
        tv1::WaitRequest w;
        w.set_container_id(process.container_id);
        w.set_exec_id(process.exec_id);
        wait_status = tasks->Wait(&wait_ctx, w, &waited);
        notify(exited.get());
    });
    std::unique_ptr<RawTerminal> raw;
    if (options.terminal) raw = std::make_unique<RawTerminal>();
    if (start) {
        if (auto st = start(); !st.ok()) {
            wait_ctx.TryCancel();
            wait_thread.join();
            return std::move(st).error();
        }
    }

    auto resize = [&] {
        winsize ws{};
        if (!options.terminal || ::ioctl(0, TIOCGWINSZ, &ws) != 0) return;
        tv1::ResizePtyRequest r;
        r.set_container_id(process.container_id);
        r.set_exec_id(process.exec_id);
        r.set_width(ws.ws_col);
        r.set_height(ws.ws_row);
        google::protobuf::Empty e;
        (void)client.call([&](grpc::ClientContext* c) { return tasks->ResizePty(c, r, &e); });
    };
    resize();
    if (options.io) {
        std::function<void()> close_stdin;
        if (options.close_stdin_on_eof)
            close_stdin = [&client, &tasks, &process] {
                tv1::CloseIORequest c;
                c.set_container_id(process.container_id);
                c.set_exec_id(process.exec_id);
                c.set_stdin(true);
                google::protobuf::Empty e;
                (void)client.call(
                    [&](grpc::ClientContext* ctx) { return tasks->CloseIO(ctx, c, &e); });
            };
        options.io->start(std::move(close_stdin));
    }
    std::thread sig_thread([&] {
        const sigset_t sigs = forwarded_signals();
        const fs::UniqueFd sigfd(::signalfd(-1, &sigs, SFD_CLOEXEC));
        bool forward = true;
        for (;;) {
            pollfd p[2] = {{exited.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
            const int r = ::poll(p, sigfd ? 2 : 1, -1);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 || p[0].revents != 0) return;
            signalfd_siginfo info{};
            if (::read(sigfd.get(), &info, sizeof info) != sizeof info) continue;
            const int sig = static_cast<int>(info.ssi_signo);
            if (sig == SIGWINCH) {
                resize();
                continue;
            }
            if (!forward) continue;
            tv1::KillRequest k;
            k.set_container_id(process.container_id);
            k.set_exec_id(process.exec_id);
            k.set_signal(static_cast<std::uint32_t>(sig));
            google::protobuf::Empty e;
            auto st = client.call([&](grpc::ClientContext* c) { return tasks->Kill(c, k, &e); });
            // The process is gone: nothing left to signal (ctr stops forwarding too).
            if (!st.ok() && st.error().is(Errc::NotFound)) forward = false;
        }
    });
    wait_thread.join();
    sig_thread.join();
    if (options.io) options.io->finish();
    raw.reset();
    if (!wait_status.ok()) return client.check(wait_status).error();
    return waited.exit_status();
}

Status write_pid_file(const std::string& path, std::uint32_t pid) {
    std::error_code ec;
    const auto abs = std::filesystem::absolute(path, ec);
    if (ec) return from_errno(ec.value(), "pid file " + path);
    const auto tmp = abs.parent_path() / ("." + abs.filename().string());
    fs::UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_SYNC | O_CLOEXEC, 0666));
    if (!fd) return from_errno(errno, "create " + tmp.string());
    const std::string text = std::to_string(pid);
    const bool written = write_all(fd.get(), text.data(), text.size());
    fd.reset();
    if (!written || ::rename(tmp.c_str(), abs.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return from_errno(err, "write pid file " + abs.string());
    }
    return ok_status();
}

Status start_process(const ProcessRef& process) {
    auto tasks = tv1::Tasks::NewStub(process.client.channel());
    tv1::StartRequest req;
    req.set_container_id(process.container_id);
    req.set_exec_id(process.exec_id);
    tv1::StartResponse resp;
    return process.client.call([&](grpc::ClientContext* c) { return tasks->Start(c, req, &resp); });
}

} // namespace gantry::cli
