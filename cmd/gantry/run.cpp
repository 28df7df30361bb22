// gantry run: what `ctr run` does (protocol-facts §11.4), from one command. The image is
// unpacked if needed; a snapshot keyed by the container id is prepared on its top layer; the
// container gets the default spec of oci_spec.hpp, with the image's user (or --user) resolved in
// the snapshot's /etc/passwd and /etc/group; the task's stdio are FIFOs this process copies to and
// from its own (task_io.hpp); signals are forwarded; the exit code is the task's.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/container_user.hpp"
#include "cmd/gantry/oci_spec.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/task_io.hpp"
#include "cmd/gantry/unpack.hpp"
#include "runtime/runc/options.pb.h"
#include "services/containers/v1/containers.grpc.pb.h"
#include "services/images/v1/images.grpc.pb.h"
#include "services/leases/v1/leases.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/tasks/v1/tasks.grpc.pb.h"

#include <random>

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
    std::string user;
};

std::string random_hex(int n) {
    static std::mt19937_64 rng{std::random_device{}()};
    std::string s;
    for (int i = 0; i < n; ++i)
        s += "0123456789abcdef"[rng() % 16];
    return s;
}

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
    const json image_config = config.value("config", json::object());
    SpecInput in{client.ns(), o.id,       image_config,  o.command, o.env,
                 o.tty,       o.net_host, !o.no_seccomp, o.mounts,  {}};
    GANTRY_ASSIGN_OR_RETURN(json spec, build_spec(in));
    std::string user = o.user;
    if (user.empty() && image_config.contains("User") && image_config["User"].is_string())
        user = image_config["User"].get<std::string>();

    auto snaps = snv1::Snapshots::NewStub(client.channel());
    snv1::PrepareSnapshotRequest preq;
    preq.set_snapshotter(sn);
    preq.set_key(o.id);
    preq.set_parent(rootfs.chain_id());
    snv1::PrepareSnapshotResponse presp;
    GANTRY_TRY(leased(client, lease,
                      [&](grpc::ClientContext* c) { return snaps->Prepare(c, preq, &presp); }));
    auto remove_snapshot = [&] {
        snv1::RemoveSnapshotRequest r;
        r.set_snapshotter(sn);
        r.set_key(o.id);
        google::protobuf::Empty e;
        (void)client.call([&](grpc::ClientContext* ctx) { return snaps->Remove(ctx, r, &e); });
    };
    // The user needs the image's /etc/passwd and /etc/group, so the snapshot must exist first.
    auto resolved = user_in_snapshot(client, sn, o.id, [&](const ContainerRoot& root) {
        return image_process_user(root, user);
    });
    if (!resolved.ok()) {
        remove_snapshot();
        return std::move(resolved).error();
    }
    spec["process"]["user"] = user_json(*resolved);

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
        remove_snapshot();
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
    block_forwarded_signals();
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

    std::unique_ptr<FifoSet> fifos;
    std::unique_ptr<StdioCopier> io;
    tv1::CreateTaskRequest treq;
    treq.set_container_id(o.id);
    *treq.mutable_rootfs() = mresp.mounts();
    treq.set_terminal(o.tty);
    if (!o.detach) {
        auto f = FifoSet::create(kDefaultFifoDir, o.id, o.tty);
        if (!f.ok()) return fail(f.error());
        fifos = std::move(*f);
        treq.set_stdin(fifos->config().in);
        treq.set_stdout(fifos->config().out);
        treq.set_stderr(fifos->config().err);
        auto opened = StdioCopier::open(fifos->config());
        if (!opened.ok()) return fail(opened.error());
        io = std::move(*opened);
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
    auto start = [&] { return start_process({*client, o.id, ""}); };
    if (o.detach) {
        if (auto st = start(); !st.ok()) {
            delete_task();
            return fail(st.error());
        }
        return 0;
    }
    auto waited = attach_and_wait({*client, o.id, ""}, {io.get(), o.tty, !o.tty}, start);
    const std::uint32_t code = delete_task();
    if (!waited.ok()) return fail(waited.error());
    if (o.rm) remove_container(*client, o.id, *sn);
    return static_cast<int>(*waited != 0 ? *waited : code);
}

// `containers create` without a task.
int create_command(const Globals& g, const RunOptions& o) {
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto sn = choose_snapshotter(*client, o.snapshotter);
    if (!sn.ok()) return print_error(sn.error());
    return finish(create_container(*client, o, *sn));
}

// The flags `run` and `containers create` share: what goes into the container.
void add_container_flags(CLI::App* cmd, RunOptions& o) {
    cmd->add_option("image", o.image, "Image reference (imported or pulled already)")
        ->required()
        ->type_name("IMAGE");
    cmd->add_option("id", o.id, "Container id")->required()->type_name("ID");
    cmd->add_flag("-t,--tty", o.tty, "Give the process a terminal (stdin must be a terminal)");
    cmd->add_option("--user", o.user,
                    "Run as USER instead of the image's user: uid, name, uid:gid, name:group, "
                    "uid:group or name:gid, names looked up in the image's /etc/passwd and "
                    "/etc/group")
        ->type_name("USER");
    cmd->add_flag("--net-host", o.net_host, "Share the host's network namespace");
    cmd->add_flag("--no-seccomp", o.no_seccomp, "Run without the default seccomp profile");
    cmd->add_option("--env", o.env, "Environment variable KEY=VALUE (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    cmd->add_option("--mount", o.mounts,
                    "Extra mount: type=bind,src=/host,dst=/ctr,options=rbind:ro (repeatable)")
        ->type_name("SPEC")
        ->allow_extra_args(false);
    cmd->add_option("--runtime", o.runtime,
                    "Runtime name (io.containerd.runc.v2, io.containerd.gantry.v2)")
        ->type_name("NAME");
    cmd->add_option("--runc-binary", o.runc_binary,
                    "runc-compatible binary the shim drives (crun, runsc)")
        ->type_name("PATH");
    cmd->add_option("--snapshotter", o.snapshotter,
                    "Snapshotter (default: the namespace's, else overlayfs)")
        ->envname("CONTAINERD_SNAPSHOTTER")
        ->type_name("NAME");
    cmd->add_option("command", o.command, "The command and its arguments (default: the image's)")
        ->type_name("COMMAND [ARG...]");
    // Like ctr: everything after IMAGE is positional, so the command's own flags ("id -u") and
    // words that are also gantry subcommands stay the command's.
    cmd->positionals_at_end();
}

} // namespace

void register_run(CLI::App& app, Globals& g) {
    auto o = std::make_shared<RunOptions>();
    auto* cmd = app.add_subcommand("run", "Run a command in a new container from an image");
    add_container_flags(cmd, *o);
    cmd->add_flag("--rm", o->rm, "Remove the container and its snapshot when the task exits");
    cmd->add_flag("-d,--detach", o->detach, "Start the task and return; no stdio is attached");
    cmd->footer("Usage: gantry run [OPTIONS] IMAGE ID [COMMAND [ARG...]]");
    set_action(*cmd, g, [&g, o] { return run_command(g, *o); });

    // ctr's `containers create`: registered here, beside run, whose container it makes.
    auto* containers = app.get_subcommand("containers");
    auto c = std::make_shared<RunOptions>();
    auto* create = containers->add_subcommand(
        "create", "Create a container from an image (unpacked if needed), with no task");
    add_container_flags(create, *c);
    create->footer("Usage: gantry containers create [OPTIONS] IMAGE ID [COMMAND [ARG...]]\n"
                   "Start it with `gantry tasks start ID`.");
    set_action(*create, g, [&g, c] { return create_command(g, *c); });
}

} // namespace gantry::cli
