// gantry run: what `ctr run` does (protocol-facts §11.4), from one command. The image is
// unpacked if needed; a snapshot keyed by the container id is prepared on its top layer; the
// container gets the default spec of oci_spec.hpp; the task's stdio are FIFOs this process
// copies to and from its own; signals are forwarded; the exit code is the task's.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/oci_spec.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/unpack.hpp"
#include "core/fs/unique_fd.hpp"
#include "runtime/runc/options.pb.h"
#include "services/containers/v1/containers.grpc.pb.h"
#include "services/images/v1/images.grpc.pb.h"
#include "services/leases/v1/leases.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/tasks/v1/tasks.grpc.pb.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <poll.h>
#include <random>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace gantry::cli {
namespace {

namespace cv1 = containerd::services::containers::v1;
namespace imv1 = containerd::services::images::v1;
namespace lsv1 = containerd::services::leases::v1;
namespace snv1 = containerd::services::snapshots::v1;
namespace tv1 = containerd::services::tasks::v1;
using json = nlohmann::json;

struct RunOptions {
    std::string image;
    std::string id;
    std::vector<std::string> command;
    bool rm = false;
    bool detach = false;
    bool tty = false;
    bool net_host = false;
    bool no_seccomp = false;
    std::vector<std::string> env;
    std::vector<std::string> mounts;
    std::string runtime = "io.containerd.runc.v2";
    std::string runc_binary;
    std::string snapshotter;
};

std::string random_hex(int n) {
    static std::mt19937_64 rng{std::random_device{}()};
    std::string s;
    for (int i = 0; i < n; ++i)
        s += "0123456789abcdef"[rng() % 16];
    return s;
}

// The task's stdio: FIFOs in a private directory, removed with it.
struct Fifos {
    std::filesystem::path dir;
    std::string in, out, err;
    ~Fifos() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

Result<std::unique_ptr<Fifos>> make_fifos(const std::string& id, bool tty) {
    auto f = std::make_unique<Fifos>();
    f->dir = std::filesystem::path("/run/gantry/fifo") / random_hex(16);
    std::error_code ec;
    std::filesystem::create_directories(f->dir, ec);
    if (ec) return from_errno(ec.value(), "create " + f->dir.string());
    ::chmod(f->dir.c_str(), 0700);
    f->in = (f->dir / (id + "-stdin")).string();
    f->out = (f->dir / (id + "-stdout")).string();
    if (!tty) f->err = (f->dir / (id + "-stderr")).string();
    for (const auto* p : {&f->in, &f->out, &f->err})
        if (!p->empty() && ::mkfifo(p->c_str(), 0700) != 0)
            return from_errno(errno, "mkfifo " + *p);
    return f;
}

// Copies the task's output FIFOs to our stdout/stderr until their writers are gone (POLLHUP
// comes only after a writer has opened and closed, so starting early is safe) or stop is set
// and nothing is left.
void copy_out(std::vector<std::pair<int, int>> pairs, const std::atomic<bool>& stop) {
    char buf[16384];
    auto deadline = std::chrono::steady_clock::time_point::max();
    while (!pairs.empty()) {
        if (stop && deadline == std::chrono::steady_clock::time_point::max())
            deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        if (std::chrono::steady_clock::now() > deadline) return;
        std::vector<pollfd> fds;
        for (const auto& [from, to] : pairs)
            fds.push_back({from, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) return;
        for (std::size_t i = fds.size(); i-- > 0;) {
            if (fds[i].revents == 0) continue;
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                for (ssize_t off = 0; off < n;) {
                    const ssize_t w =
                        ::write(pairs[i].second, buf + off, static_cast<std::size_t>(n - off));
                    if (w <= 0) break;
                    off += w;
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(i));
            }
        }
    }
}

class RawTerminal {
public:
    RawTerminal() {
        if (::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
            termios raw = saved_;
            ::cfmakeraw(&raw);
            active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
        }
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(0, TCSANOW, &saved_);
    }

private:
    termios saved_{};
    bool active_ = false;
};

template <typename Rpc>
Status leased(const Client& c, const std::string& lease, Rpc&& rpc) {
    grpc::ClientContext ctx;
    c.prepare(ctx);
    if (!lease.empty()) ctx.AddMetadata("containerd-lease", lease);
    return c.check(std::forward<Rpc>(rpc)(&ctx));
}

// Image, unpack, snapshot and container, under a lease that ends when they exist.
Status create_container(const Client& client, const RunOptions& o, const std::string& sn) {
    auto images = imv1::Images::NewStub(client.channel());
    imv1::GetImageRequest ireq;
    ireq.set_name(o.image);
    imv1::GetImageResponse iresp;
    GANTRY_TRY(client.call([&](grpc::ClientContext* c) { return images->Get(c, ireq, &iresp); }));
    oci::Descriptor target{iresp.image().target().media_type(),
                           iresp.image().target().digest(),
                           iresp.image().target().size(),
                           {},
                           {}};

    auto leases = lsv1::Leases::NewStub(client.channel());
    lsv1::CreateRequest lreq;
    lreq.set_id("gantry-run-" + random_hex(12));
    lsv1::CreateResponse lresp;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* c) { return leases->Create(c, lreq, &lresp); }));
    const std::string lease = lresp.lease().id();
    struct DropLease {
        const Client& c;
        lsv1::Leases::Stub& s;
        std::string id;
        ~DropLease() {
            lsv1::DeleteRequest d;
            d.set_id(id);
            google::protobuf::Empty e;
            (void)c.call([&](grpc::ClientContext* ctx) { return s.Delete(ctx, d, &e); });
        }
    } drop{client, *leases, lease};

    GANTRY_ASSIGN_OR_RETURN(ImageRootfs rootfs, resolve_rootfs(client, target));
    {
        auto unpacked = unpack(client, lease, sn, rootfs);
        if (!unpacked.ok()) return std::move(unpacked).error().wrap("unpack " + o.image);
    }
    GANTRY_ASSIGN_OR_RETURN(std::string config_bytes, read_blob(client, rootfs.config.digest));
    json config;
    try {
        config = json::parse(config_bytes);
    } catch (const std::exception& e) {
        return invalid_argument("image config: " + std::string(e.what()));
    }
    SpecInput in{client.ns(), o.id,          config.value("config", json::object()),
                 o.command,   o.env,         o.tty,
                 o.net_host,  !o.no_seccomp, o.mounts};
    GANTRY_ASSIGN_OR_RETURN(json spec, build_spec(in));

    auto snaps = snv1::Snapshots::NewStub(client.channel());
    snv1::PrepareSnapshotRequest preq;
    preq.set_snapshotter(sn);
    preq.set_key(o.id);
    preq.set_parent(rootfs.chain_id());
    snv1::PrepareSnapshotResponse presp;
    GANTRY_TRY(leased(client, lease,
                      [&](grpc::ClientContext* c) { return snaps->Prepare(c, preq, &presp); }));

    auto containers = cv1::Containers::NewStub(client.channel());
    cv1::CreateContainerRequest creq;
    auto* c = creq.mutable_container();
    c->set_id(o.id);
    c->set_image(o.image);
    c->mutable_runtime()->set_name(o.runtime);
    if (!o.runc_binary.empty()) {
        containerd::runc::v1::Options opts;
        opts.set_binary_name(o.runc_binary);
        c->mutable_runtime()->mutable_options()->set_type_url("containerd.runc.v1.Options");
        opts.SerializeToString(c->mutable_runtime()->mutable_options()->mutable_value());
    }
    c->mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Spec");
    c->mutable_spec()->set_value(spec.dump());
    c->set_snapshotter(sn);
    c->set_snapshot_key(o.id);
    cv1::CreateContainerResponse cresp;
    auto st = leased(client, lease, [&](grpc::ClientContext* ctx) {
        return containers->Create(ctx, creq, &cresp);
    });
    if (!st.ok()) {
        snv1::RemoveSnapshotRequest r;
        r.set_snapshotter(sn);
        r.set_key(o.id);
        google::protobuf::Empty e;
        (void)client.call([&](grpc::ClientContext* ctx) { return snaps->Remove(ctx, r, &e); });
        return st;
    }
    return ok_status();
}

void remove_container(const Client& client, const std::string& id, const std::string& sn) {
    auto containers = cv1::Containers::NewStub(client.channel());
    auto snaps = snv1::Snapshots::NewStub(client.channel());
    google::protobuf::Empty e;
    cv1::DeleteContainerRequest d;
    d.set_id(id);
    (void)client.call([&](grpc::ClientContext* c) { return containers->Delete(c, d, &e); });
    snv1::RemoveSnapshotRequest r;
    r.set_snapshotter(sn);
    r.set_key(id);
    (void)client.call([&](grpc::ClientContext* c) { return snaps->Remove(c, r, &e); });
}

int run_command(const Globals& g, const RunOptions& o) {
    // Signals are taken by a thread of ours (forwarded to the task), not by default actions.
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2})
        sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto sn = choose_snapshotter(*client, o.snapshotter);
    if (!sn.ok()) return print_error(sn.error());
    if (auto st = create_container(*client, o, *sn); !st.ok()) return print_error(st.error());

    auto tasks = tv1::Tasks::NewStub(client->channel());
    auto fail = [&](const Error& e) {
        if (o.rm) remove_container(*client, o.id, *sn);
        return print_error(e);
    };
    snv1::MountsRequest mreq;
    mreq.set_snapshotter(*sn);
    mreq.set_key(o.id);
    snv1::MountsResponse mresp;
    auto snaps = snv1::Snapshots::NewStub(client->channel());
    if (auto st =
            client->call([&](grpc::ClientContext* c) { return snaps->Mounts(c, mreq, &mresp); });
        !st.ok())
        return fail(st.error());

    std::unique_ptr<Fifos> fifos;
    std::vector<fs::UniqueFd> fds;
    tv1::CreateTaskRequest treq;
    treq.set_container_id(o.id);
    *treq.mutable_rootfs() = mresp.mounts();
    treq.set_terminal(o.tty);
    if (!o.detach) {
        auto f = make_fifos(o.id, o.tty);
        if (!f.ok()) return fail(f.error());
        fifos = std::move(*f);
        treq.set_stdin(fifos->in);
        treq.set_stdout(fifos->out);
        treq.set_stderr(fifos->err);
    }
    std::vector<std::pair<int, int>> outs;
    fs::UniqueFd in_fd;
    if (fifos) {
        fds.emplace_back(::open(fifos->out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        outs.emplace_back(fds.back().get(), 1);
        if (!fifos->err.empty()) {
            fds.emplace_back(::open(fifos->err.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
            outs.emplace_back(fds.back().get(), 2);
        }
        in_fd.reset(::open(fifos->in.c_str(), O_RDWR | O_CLOEXEC));
    }
    tv1::CreateTaskResponse tresp;
    if (auto st =
            client->call([&](grpc::ClientContext* c) { return tasks->Create(c, treq, &tresp); });
        !st.ok())
        return fail(st.error());

    auto delete_task = [&]() -> std::uint32_t {
        tv1::DeleteTaskRequest d;
        d.set_container_id(o.id);
        tv1::DeleteResponse dr;
        (void)client->call([&](grpc::ClientContext* c) { return tasks->Delete(c, d, &dr); });
        return dr.exit_status();
    };
    if (o.detach) {
        tv1::StartRequest s;
        s.set_container_id(o.id);
        tv1::StartResponse sr;
        if (auto st = client->call([&](grpc::ClientContext* c) { return tasks->Start(c, s, &sr); });
            !st.ok()) {
            delete_task();
            return fail(st.error());
        }
        return 0;
    }

    std::atomic<bool> stop{false};
    std::thread out_thread(copy_out, outs, std::cref(stop));
    // Wait is sent before Start, as ctr does, so no exit can be missed.
    tv1::WaitResponse waited;
    grpc::Status wait_status;
    std::atomic<bool> exited{false};
    grpc::ClientContext wait_ctx;
    client->prepare(wait_ctx);
    std::thread wait_thread([&] {
        tv1::WaitRequest w;
        w.set_container_id(o.id);
        wait_status = tasks->Wait(&wait_ctx, w, &waited);
        exited = true;
    });
    std::unique_ptr<RawTerminal> raw;
    if (o.tty) raw = std::make_unique<RawTerminal>();
    auto resize = [&] {
        winsize ws{};
        if (!o.tty || ::ioctl(0, TIOCGWINSZ, &ws) != 0) return;
        tv1::ResizePtyRequest r;
        r.set_container_id(o.id);
        r.set_width(ws.ws_col);
        r.set_height(ws.ws_row);
        google::protobuf::Empty e;
        (void)client->call([&](grpc::ClientContext* c) { return tasks->ResizePty(c, r, &e); });
    };
    tv1::StartRequest s;
    s.set_container_id(o.id);
    tv1::StartResponse sr;
    auto started = client->call([&](grpc::ClientContext* c) { return tasks->Start(c, s, &sr); });
    if (!started.ok()) {
        wait_ctx.TryCancel();
        wait_thread.join();
        stop = true;
        out_thread.join();
        raw.reset();
        delete_task();
        return fail(started.error());
    }
    resize();
    // stdin: copied until EOF, then CloseIO so the process sees its end.
    std::thread in_thread([&] {
        char buf[16384];
        while (!exited) {
            pollfd p{0, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) break;
            if (::write(in_fd.get(), buf, static_cast<std::size_t>(n)) < 0) break;
        }
        if (exited) return;
        tv1::CloseIORequest c;
        c.set_container_id(o.id);
        c.set_stdin(true);
        google::protobuf::Empty e;
        (void)client->call([&](grpc::ClientContext* ctx) { return tasks->CloseIO(ctx, c, &e); });
        in_fd.reset();
    });
    std::thread sig_thread([&] {
        timespec tick{0, 100'000'000};
        while (!exited) {
            const int sig = ::sigtimedwait(&sigs, nullptr, &tick);
            if (sig <= 0) continue;
            if (sig == SIGWINCH) {
                resize();
                continue;
            }
            tv1::KillRequest k;
            k.set_container_id(o.id);
            k.set_signal(static_cast<std::uint32_t>(sig));
            google::protobuf::Empty e;
            (void)client->call([&](grpc::ClientContext* c) { return tasks->Kill(c, k, &e); });
        }
    });
    wait_thread.join();
    stop = true;
    out_thread.join();
    in_thread.join();
    sig_thread.join();
    raw.reset();
    const std::uint32_t code = delete_task();
    if (o.rm) remove_container(*client, o.id, *sn);
    if (!wait_status.ok()) return print_error(from_grpc(wait_status));
    return static_cast<int>(waited.exit_status() != 0 ? waited.exit_status() : code);
}

} // namespace

void register_run(CLI::App& app, Globals& g) {
    auto o = std::make_shared<RunOptions>();
    auto* cmd = app.add_subcommand("run", "Run a command in a new container from an image");
    cmd->add_option("image", o->image, "Image reference (imported or pulled already)")
        ->required()
        ->type_name("IMAGE");
    cmd->add_option("id", o->id, "Container id")->required()->type_name("ID");
    cmd->add_flag("--rm", o->rm, "Remove the container and its snapshot when the task exits");
    cmd->add_flag("-d,--detach", o->detach, "Start the task and return; no stdio is attached");
    cmd->add_flag("-t,--tty", o->tty, "Give the process a terminal (stdin must be a terminal)");
    cmd->add_flag("--net-host", o->net_host, "Share the host's network namespace");
    cmd->add_flag("--no-seccomp", o->no_seccomp, "Run without the default seccomp profile");
    cmd->add_option("--env", o->env, "Environment variable KEY=VALUE (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    cmd->add_option("--mount", o->mounts,
                    "Extra mount: type=bind,src=/host,dst=/ctr,options=rbind:ro (repeatable)")
        ->type_name("SPEC")
        ->allow_extra_args(false);
    cmd->add_option("--runtime", o->runtime,
                    "Runtime name (io.containerd.runc.v2, io.containerd.gantry.v2)")
        ->type_name("NAME");
    cmd->add_option("--runc-binary", o->runc_binary,
                    "runc-compatible binary the shim drives (crun, runsc)")
        ->type_name("PATH");
    cmd->add_option("--snapshotter", o->snapshotter,
                    "Snapshotter (default: the namespace's, else overlayfs)")
        ->envname("CONTAINERD_SNAPSHOTTER")
        ->type_name("NAME");
    // Like ctr: everything after IMAGE and ID is the command (default: the image's), dashes
    // included.
    cmd->allow_extras();
    cmd->footer("Usage: gantry run [OPTIONS] IMAGE ID [COMMAND [ARG...]]");
    set_action(*cmd, g, [&g, o, cmd] {
        std::vector<std::string> extra = cmd->remaining();
        if (extra.empty()) extra = cmd->get_parent()->remaining();
        o->command.insert(o->command.end(), extra.begin(), extra.end());
        return run_command(g, *o);
    });
}

} // namespace gantry::cli
