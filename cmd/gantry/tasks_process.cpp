// gantry tasks start|exec|attach, as ctr's `task start`, `task exec` and `task attach`:
// - start creates the task of an existing container (rootfs from its snapshot) with our stdio
//   on FIFOs (a terminal when the container's spec asks for one), starts it, forwards signals
//   and terminal size, waits, deletes the task and exits with its code; -d returns after Start
//   and leaves the FIFOs for `tasks attach`.
// - exec runs another process in a running task: the process spec is the container's, with the
//   command, terminal, cwd, user and environment given; Exec, Wait, Start, then DeleteProcess.
// - attach opens the FIFOs the running task was created with (their paths come from Tasks.Get),
//   copies them until the task exits, deletes the task and exits with its code.
#include "cmd/gantry/tasks_process.hpp"

#include "cmd/gantry/client.hpp"
#include "cmd/gantry/container_user.hpp"
#include "cmd/gantry/oci_spec.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/task_io.hpp"
#include "services/containers/v1/containers.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/tasks/v1/tasks.grpc.pb.h"

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::cli {
namespace {

namespace cv1 = containerd::services::containers::v1;
namespace snv1 = containerd::services::snapshots::v1;
namespace tv1 = containerd::services::tasks::v1;
using json = nlohmann::json;

constexpr const char* kProcessSpecType =
    "types.containerd.io/opencontainers/runtime-spec/1/Process";

struct Container {
    cv1::Container record;
    json spec;
};

Result<Container> load_container(const Client& client, const std::string& id) {
    auto stub = cv1::Containers::NewStub(client.channel());
    cv1::GetContainerRequest req;
    req.set_id(id);
    cv1::GetContainerResponse resp;
    GANTRY_TRY(client.call([&](grpc::ClientContext* c) { return stub->Get(c, req, &resp); }));
    Container out{std::move(*resp.mutable_container()), json::object()};
    try {
        if (!out.record.spec().value().empty()) out.spec = json::parse(out.record.spec().value());
    } catch (const std::exception& e) {
        return invalid_argument("container " + id + ": spec is not JSON: " + e.what());
    }
    if (!out.spec.is_object()) return invalid_argument("container " + id + ": spec is not JSON");
    return out;
}

bool spec_terminal(const json& spec) {
    const auto p = spec.find("process");
    if (p == spec.end() || !p->is_object()) return false;
    const auto t = p->find("terminal");
    return t != p->end() && t->is_boolean() && t->get<bool>();
}

// Where a container's files are for a user lookup: its snapshot, or (a container made with
// `ctr run --rootfs DIR`) the absolute root path of its spec.
Result<ProcessUser> resolve_container_user(const Client& client, const Container& c,
                                           const std::string& user) {
    auto resolve = [&](const ContainerRoot& root) { return resolve_user(root, user); };
    const auto& r = c.record;
    if (!r.snapshot_key().empty()) {
        if (r.snapshotter().empty())
            return invalid_argument("container " + r.id() + ": no snapshotter set");
        return user_in_snapshot(client, r.snapshotter(), r.snapshot_key(), resolve);
    }
    std::string root_path;
    if (const auto root = c.spec.find("root"); root != c.spec.end() && root->is_object())
        if (const auto path = root->find("path"); path != root->end() && path->is_string())
            root_path = path->get<std::string>();
    if (root_path.empty() || root_path.front() != '/')
        return invalid_argument("container " + r.id() +
                                ": no snapshot and no absolute rootfs path to look users up in");
    GANTRY_ASSIGN_OR_RETURN(const auto root, ContainerRoot::open(root_path));
    return resolve(root);
}

// containerd's WithEnv: KEY=VALUE replaces KEY or is appended; a bare KEY removes it.
void merge_env(json& env, const std::vector<std::string>& changes) {
    if (!env.is_array()) env = json::array();
    for (const auto& change : changes) {
        const auto eq = change.find('=');
        const std::string key = change.substr(0, eq);
        json out = json::array();
        bool replaced = false;
        for (const auto& e : env) {
            const std::string s = e.is_string() ? e.get<std::string>() : std::string();
            if (s.substr(0, s.find('=')) != key) {
                out.push_back(e);
            } else if (eq != std::string::npos && !replaced) {
                out.push_back(change);
                replaced = true;
            }
        }
        if (eq != std::string::npos && !replaced) out.push_back(change);
        env = std::move(out);
    }
}

// The FIFOs a task was created with, as `tasks attach` found them, removed after the task is
// deleted (ctr removes them then too): only paths that are FIFOs, then their directories if
// that left them empty.
void remove_fifos(const StdioConfig& s) {
    std::set<std::filesystem::path> dirs;
    for (const auto* p : {&s.in, &s.out, &s.err}) {
        struct stat st {};
        if (p->empty() || ::lstat(p->c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
        ::unlink(p->c_str());
        dirs.insert(std::filesystem::path(*p).parent_path());
    }
    for (const auto& d : dirs)
        ::rmdir(d.c_str());
}

struct StartOptions {
    std::string id;
    bool null_io = false;
    std::string log_uri;
    std::string fifo_dir;
    std::string pid_file;
    bool detach = false;
};

int start_command(const Globals& g, const StartOptions& o) {
    block_forwarded_signals();
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto container = load_container(*client, o.id);
    if (!container.ok()) return print_error(container.error());
    const bool tty = spec_terminal(container->spec);
    if (tty && o.null_io)
        return print_error(invalid_argument("tty and null-io cannot be used together"));
    if (tty && !o.log_uri.empty())
        return print_error(invalid_argument("tty and log-uri cannot be used together"));
    if (o.null_io && !o.log_uri.empty())
        return print_error(invalid_argument("null-io and log-uri cannot be used together"));

    tv1::CreateTaskRequest treq;
    treq.set_container_id(o.id);
    const auto& rec = container->record;
    if (!rec.snapshot_key().empty()) {
        if (rec.snapshotter().empty())
            return print_error(invalid_argument(
                "unable to resolve rootfs mounts without snapshotter on container"));
        auto snaps = snv1::Snapshots::NewStub(client->channel());
        snv1::MountsRequest mreq;
        mreq.set_snapshotter(rec.snapshotter());
        mreq.set_key(rec.snapshot_key());
        snv1::MountsResponse mresp;
        if (auto st = client->call(
                [&](grpc::ClientContext* c) { return snaps->Mounts(c, mreq, &mresp); });
            !st.ok())
            return print_error(st.error());
        *treq.mutable_rootfs() = mresp.mounts();
    }

    std::unique_ptr<FifoSet> fifos;
    std::unique_ptr<StdioCopier> io;
    StdioConfig stdio;
    stdio.terminal = tty;
    if (!o.log_uri.empty()) {
        stdio.out = stdio.err = o.log_uri;
    } else if (!o.null_io) {
        auto f = FifoSet::create(o.fifo_dir.empty() ? kDefaultFifoDir : o.fifo_dir, o.id, tty);
        if (!f.ok()) return print_error(f.error());
        fifos = std::move(*f);
        stdio = fifos->config();
        auto opened = StdioCopier::open(stdio);
        if (!opened.ok()) return print_error(opened.error());
        io = std::move(*opened);
    }
    treq.set_stdin(stdio.in);
    treq.set_stdout(stdio.out);
    treq.set_stderr(stdio.err);
    treq.set_terminal(stdio.terminal);

    auto tasks = tv1::Tasks::NewStub(client->channel());
    tv1::CreateTaskResponse tresp;
    if (auto st =
            client->call([&](grpc::ClientContext* c) { return tasks->Create(c, treq, &tresp); });
        !st.ok())
        return print_error(st.error());
    auto delete_task = [&]() -> Status {
        tv1::DeleteTaskRequest d;
        d.set_container_id(o.id);
        tv1::DeleteResponse dr;
        return client->call([&](grpc::ClientContext* c) { return tasks->Delete(c, d, &dr); });
    };
    // From here on a failure deletes the task again: nothing is left half made.
    auto fail = [&](const Error& e) {
        (void)delete_task();
        return print_error(e);
    };
    if (!o.pid_file.empty())
        if (auto st = write_pid_file(o.pid_file, tresp.pid()); !st.ok()) return fail(st.error());
    auto start = [&] { return start_process({*client, o.id, ""}); };
    if (o.detach) {
        if (auto st = start(); !st.ok()) return fail(st.error());
        if (fifos) fifos->keep();
        return 0;
    }
    auto code = attach_and_wait({*client, o.id, ""}, {io.get(), tty, !tty}, start);
    if (!code.ok()) return fail(code.error());
    if (auto st = delete_task(); !st.ok()) return print_error(st.error());
    return static_cast<int>(*code);
}

struct ExecOptions {
    std::string id;
    std::vector<std::string> args;
    bool tty = false;
    bool detach = false;
    std::string exec_id;
    std::string cwd;
    std::string user;
    std::vector<std::string> env;
    std::string fifo_dir;
    std::string log_uri;
};

int exec_command(const Globals& g, const ExecOptions& o) {
    block_forwarded_signals();
    if (o.args.empty()) return print_error(invalid_argument("no command given to execute"));
    if (o.tty && !o.log_uri.empty())
        return print_error(invalid_argument("can't use log-uri with tty"));
    if (!o.log_uri.empty() && !o.fifo_dir.empty())
        return print_error(invalid_argument("can't use log-uri with fifo-dir"));
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto container = load_container(*client, o.id);
    if (!container.ok()) return print_error(container.error());

    json process = container->spec.value("process", json::object());
    if (!process.is_object()) process = json::object();
    if (!o.user.empty()) {
        auto user = resolve_container_user(*client, *container, o.user);
        if (!user.ok()) return print_error(user.error());
        // uid, gid and additionalGids change; other user fields (umask) stay, as WithUser.
        json& u = process["user"];
        if (!u.is_object()) u = json::object();
        u.erase("additionalGids");
        u.update(user_json(*user));
    }
    process["terminal"] = o.tty;
    process["args"] = o.args;
    if (!o.cwd.empty()) process["cwd"] = o.cwd;
    if (!o.env.empty()) {
        json env = process.value("env", json::array());
        merge_env(env, o.env);
        process["env"] = std::move(env);
    }

    std::unique_ptr<FifoSet> fifos;
    std::unique_ptr<StdioCopier> io;
    StdioConfig stdio;
    stdio.terminal = o.tty;
    if (!o.log_uri.empty()) {
        stdio.out = stdio.err = o.log_uri;
    } else {
        auto f =
            FifoSet::create(o.fifo_dir.empty() ? kDefaultFifoDir : o.fifo_dir, o.exec_id, o.tty);
        if (!f.ok()) return print_error(f.error());
        fifos = std::move(*f);
        stdio = fifos->config();
        auto opened = StdioCopier::open(stdio);
        if (!opened.ok()) return print_error(opened.error());
        io = std::move(*opened);
    }

    auto tasks = tv1::Tasks::NewStub(client->channel());
    tv1::ExecProcessRequest ereq;
    ereq.set_container_id(o.id);
    ereq.set_exec_id(o.exec_id);
    ereq.set_stdin(stdio.in);
    ereq.set_stdout(stdio.out);
    ereq.set_stderr(stdio.err);
    ereq.set_terminal(stdio.terminal);
    ereq.mutable_spec()->set_type_url(kProcessSpecType);
    ereq.mutable_spec()->set_value(process.dump());
    google::protobuf::Empty empty;
    if (auto st =
            client->call([&](grpc::ClientContext* c) { return tasks->Exec(c, ereq, &empty); });
        !st.ok())
        return print_error(st.error());
    auto delete_process = [&] {
        tv1::DeleteProcessRequest d;
        d.set_container_id(o.id);
        d.set_exec_id(o.exec_id);
        tv1::DeleteResponse dr;
        return client->call(
            [&](grpc::ClientContext* c) { return tasks->DeleteProcess(c, d, &dr); });
    };
    auto fail = [&](const Error& e) {
        (void)delete_process();
        return print_error(e);
    };
    auto start = [&] { return start_process({*client, o.id, o.exec_id}); };
    if (o.detach) {
        if (auto st = start(); !st.ok()) return fail(st.error());
        if (fifos) fifos->keep();
        return 0;
    }
    auto code = attach_and_wait({*client, o.id, o.exec_id}, {io.get(), o.tty, !o.tty}, start);
    if (!code.ok()) return fail(code.error());
    (void)delete_process();
    return static_cast<int>(*code);
}

struct AttachCommandOptions {
    std::string id;
};

int attach_command(const Globals& g, const AttachCommandOptions& o) {
    block_forwarded_signals();
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto container = load_container(*client, o.id);
    if (!container.ok()) return print_error(container.error());
    const bool tty = spec_terminal(container->spec);

    auto tasks = tv1::Tasks::NewStub(client->channel());
    tv1::GetRequest get;
    get.set_container_id(o.id);
    tv1::GetResponse got;
    if (auto st = client->call([&](grpc::ClientContext* c) { return tasks->Get(c, get, &got); });
        !st.ok()) {
        if (st.error().is(Errc::NotFound))
            return print_error(st.error().wrap("no running task found"));
        return print_error(st.error());
    }
    const auto& p = got.process();
    StdioConfig stdio{p.stdin(), p.stdout(), p.stderr(), p.terminal()};
    std::unique_ptr<StdioCopier> io;
    // A task in an unknown state has no FIFOs to speak of (containerd does not attach then).
    if (p.status() != containerd::v1::types::UNKNOWN) {
        auto opened = StdioCopier::open(stdio);
        if (!opened.ok()) return print_error(opened.error());
        io = std::move(*opened);
    }
    auto code = attach_and_wait({*client, o.id, ""}, {io.get(), tty, false}, {});
    io.reset();
    // Like ctr: the task is deleted when attach returns, and its FIFOs with it.
    tv1::DeleteTaskRequest d;
    d.set_container_id(o.id);
    tv1::DeleteResponse dr;
    const auto deleted =
        client->call([&](grpc::ClientContext* c) { return tasks->Delete(c, d, &dr); });
    if (deleted.ok()) remove_fifos(stdio);
    if (!code.ok()) return print_error(code.error());
    return static_cast<int>(*code);
}

} // namespace

void register_task_processes(CLI::App& group, Globals& g) {
    auto so = std::make_shared<StartOptions>();
    auto* start = group.add_subcommand("start", "Start a container that has been created");
    start->add_option("id", so->id, "Container id")->required()->type_name("CONTAINER");
    start->add_flag("--null-io", so->null_io, "Send all of the task's IO to /dev/null");
    start
        ->add_option("--log-uri", so->log_uri,
                     "Send stdout and stderr to this URI instead (file:///path, binary:///path "
                     "or a FIFO path), given to the shim as is")
        ->type_name("URI");
    start
        ->add_option("--fifo-dir", so->fifo_dir,
                     std::string("Directory for the stdio FIFOs (default ") + kDefaultFifoDir + ")")
        ->type_name("DIR");
    start->add_option("--pid-file", so->pid_file, "Write the task's pid to this file")
        ->type_name("PATH");
    start->add_flag("-d,--detach", so->detach,
                    "Return once the task runs; its FIFOs stay for `gantry tasks attach`");
    start->footer("The task gets a terminal when the container's spec has process.terminal; "
                  "without -d, gantry waits, forwards signals, deletes the task and exits with "
                  "its exit code.");
    set_action(*start, g, [&g, so] { return start_command(g, *so); });

    auto eo = std::make_shared<ExecOptions>();
    auto* exec = group.add_subcommand("exec", "Run another process in a running task");
    exec->add_option("--exec-id", eo->exec_id, "Id of the new process, unique within the task")
        ->required()
        ->type_name("ID");
    exec->add_flag("-t,--tty", eo->tty,
                   "Give the process a terminal; our terminal is put in raw mode and its size "
                   "forwarded");
    exec->add_flag("-d,--detach", eo->detach,
                   "Return once the process runs; it is not deleted and its FIFOs stay");
    exec->add_option("--cwd", eo->cwd, "Working directory (default: the container's)")
        ->type_name("DIR");
    exec->add_option("--user", eo->user,
                     "User to run as: uid, name, uid:gid, name:group, uid:group or name:gid, "
                     "names looked up in the container's /etc/passwd and /etc/group")
        ->type_name("USER");
    exec->add_option("--env", eo->env,
                     "Set KEY=VALUE in the process's environment (replaces KEY; a bare KEY "
                     "removes it); repeatable")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    exec->add_option("--fifo-dir", eo->fifo_dir,
                     std::string("Directory for the stdio FIFOs (default ") + kDefaultFifoDir + ")")
        ->type_name("DIR");
    exec->add_option("--log-uri", eo->log_uri,
                     "Send stdout and stderr to this URI instead (not with --tty or --fifo-dir)")
        ->type_name("URI");
    exec->add_option("id", eo->id, "Container id")->required()->type_name("CONTAINER");
    exec->add_option("command", eo->args, "The command and its arguments")
        ->type_name("CMD [ARG...]");
    // Like ctr: everything after CONTAINER is the command, flags and subcommand names included.
    exec->positionals_at_end();
    exec->footer("The process spec is the container's, with CMD, the terminal, --cwd, --user and "
                 "--env applied. Without -d, gantry waits, forwards signals, deletes the process "
                 "and exits with its exit code.");
    set_action(*exec, g, [&g, eo] { return exec_command(g, *eo); });

    auto ao = std::make_shared<AttachCommandOptions>();
    auto* attach = group.add_subcommand("attach", "Attach to the stdio of a running task");
    attach->add_option("id", ao->id, "Container id")->required()->type_name("CONTAINER");
    attach->footer("Copies the FIFOs the task was created with (e.g. by `tasks start -d`), with "
                   "terminal size forwarding when the container's spec has a terminal; when the "
                   "task exits, deletes it and exits with its exit code.");
    set_action(*attach, g, [&g, ao] { return attach_command(g, *ao); });
}

} // namespace gantry::cli
