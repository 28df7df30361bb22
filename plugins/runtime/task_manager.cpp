#include "plugins/runtime/task_manager.hpp"

#include "core/fs/unique_fd.hpp"
#include "core/log.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/ttrpc/client.hpp"
#include "events/task.pb.h"
#include "plugins/runtime/shim_binary.hpp"
#include "plugins/runtime/shim_command.hpp"
#include "runtime/task/v2/shim.pb.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <google/protobuf/any.pb.h>
#include <poll.h>
#include <sstream>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gantry::runtime {
namespace {

namespace fsys = std::filesystem;
namespace shimv2 = containerd::task::v2;
using namespace std::chrono_literals;

constexpr auto kShutdownTimeout = 3s;
constexpr auto kConnectTimeout = 5s;

std::string read_file(const fsys::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Status write_file(const fsys::path& p, std::string_view data, mode_t mode) {
    fs::UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return from_errno(errno, "create " + p.string());
    std::string_view rest = data;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return from_errno(errno, "write " + p.string());
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
}

Status make_dir(const fsys::path& p, mode_t mode) {
    if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST)
        return from_errno(errno, "mkdir " + p.string());
    ::chmod(p.c_str(), mode); // umask-proof
    return ok_status();
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    const auto e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The `log` FIFO of a bundle: shims write their logs to it; a thread copies them into gantryd's
// log. Opened read-write so the FIFO never reports EOF while the shim restarts its writer.
class LogFifo {
public:
    static std::unique_ptr<LogFifo> open(const fsys::path& path, std::string who) {
        if (::mkfifo(path.c_str(), 0700) != 0 && errno != EEXIST) return nullptr;
        fs::UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
        fs::UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
        if (!fd || !stop) return nullptr;
        return std::unique_ptr<LogFifo>(
            new LogFifo(std::move(fd), std::move(stop), std::move(who)));
    }
    ~LogFifo() {
        const std::uint64_t one = 1;
        (void)!::write(stop_.get(), &one, sizeof one);
        if (thread_.joinable()) thread_.join();
    }

private:
    LogFifo(fs::UniqueFd fd, fs::UniqueFd stop, std::string who)
        : fd_(std::move(fd)), stop_(std::move(stop)), who_(std::move(who)) {
        thread_ = std::thread([this] { run(); });
    }
    void run() {
        std::string line;
        char buf[4096];
        while (true) {
            pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents != 0) return;
            const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
            if (n <= 0) continue;
            line.append(buf, static_cast<std::size_t>(n));
            for (auto nl = line.find('\n'); nl != std::string::npos; nl = line.find('\n')) {
                if (nl > 0) log::debug("shim log {}: {}", who_, line.substr(0, nl));
                line.erase(0, nl + 1);
            }
        }
    }
    fs::UniqueFd fd_;
    fs::UniqueFd stop_;
    std::string who_;
    std::thread thread_;
};

} // namespace

class ShimTask final : public Task {
public:
    ShimTask(std::string ns, std::string id, fsys::path bundle, std::string binary,
             std::unique_ptr<ttrpc::Client> client, std::unique_ptr<LogFifo> log)
        : ns_(std::move(ns)), id_(std::move(id)), bundle_(std::move(bundle)),
          bundle_str_(bundle_.string()), binary_(std::move(binary)), client_(std::move(client)),
          log_(std::move(log)) {}

    const std::string& ns() const override { return ns_; }
    const std::string& id() const override { return id_; }
    const std::string& bundle() const override { return bundle_str_; }
    std::uint32_t pid() const override { return pid_; }
    std::uint32_t shim_pid() const override { return shim_pid_; }
    const std::string& binary() const { return binary_; }

    Result<std::string> call(std::string_view method, const google::protobuf::Message& req,
                             std::optional<std::chrono::nanoseconds> timeout) override {
        std::string bytes;
        if (!req.SerializeToString(&bytes)) return internal_error("cannot encode shim request");
        ttrpc::CallOptions opts;
        opts.with_namespace(ns_);
        opts.timeout = timeout;
        return client_->call(kShimService, method, bytes, opts);
    }

    Status connect() {
        shimv2::ConnectRequest req;
        req.set_id(id_);
        GANTRY_ASSIGN_OR_RETURN(auto resp,
                                call_as<shimv2::ConnectResponse>("Connect", req, kConnectTimeout));
        pid_ = resp.task_pid();
        shim_pid_ = resp.shim_pid();
        return ok_status();
    }
    void close() { client_->close(); }

private:
    std::string ns_, id_;
    fsys::path bundle_;
    std::string bundle_str_;
    std::string binary_;
    std::unique_ptr<ttrpc::Client> client_;
    std::unique_ptr<LogFifo> log_;
    std::atomic<std::uint32_t> pid_{0}, shim_pid_{0};
};

Manager::Manager(ManagerConfig cfg, std::shared_ptr<events::Publisher> publisher)
    : cfg_(std::move(cfg)), publisher_(std::move(publisher)) {}

Manager::~Manager() {
    // Shims keep running: a daemon that stops (or restarts) never takes containers down.
    std::lock_guard lock(mu_);
    for (auto& [k, t] : tasks_)
        t->close();
}

Result<std::shared_ptr<Task>> Manager::create(const CreateOptions& o) {
    GANTRY_TRY(metadata::validate_identifier(o.id));
    const Key key{o.ns, o.id};
    {
        std::lock_guard lock(mu_);
        if (tasks_.count(key) || creating_.count(key))
            return already_exists("task " + o.id + ": already exists");
        creating_[key] = true;
    }
    struct Unmark {
        Manager* m;
        Key k;
        ~Unmark() {
            std::lock_guard lock(m->mu_);
            m->creating_.erase(k);
        }
    } unmark{this, key};

    auto binary = o.runtime_path.empty() ? resolve_shim(o.runtime, cfg_.shim_overrides)
                                         : resolve_shim(o.runtime_path, {});
    if (!binary.ok()) return std::move(binary).error();

    const fsys::path ns_state = cfg_.state / o.ns, ns_root = cfg_.root / o.ns;
    const fsys::path bundle = ns_state / o.id, work = ns_root / o.id;
    GANTRY_TRY(make_dir(cfg_.state, 0711));
    GANTRY_TRY(make_dir(cfg_.root, 0711));
    GANTRY_TRY(make_dir(ns_state, 0711));
    GANTRY_TRY(make_dir(ns_root, 0711));
    // A bundle left behind by a crash between create and cleanup is not a live task (reload
    // connected to every live one): start over.
    std::error_code ec;
    if (fsys::exists(bundle, ec)) remove_dirs(o.ns, o.id);
    if (::mkdir(bundle.c_str(), 0700) != 0) return from_errno(errno, "mkdir " + bundle.string());
    bool keep = false;
    struct Undo {
        Manager* m;
        const CreateOptions& o;
        bool& keep;
        ~Undo() {
            if (!keep) m->remove_dirs(o.ns, o.id);
        }
    } undo{this, o, keep};
    GANTRY_TRY(make_dir(work, 0711));
    fsys::create_symlink(work, bundle / "work", ec);
    if (ec) return from_errno(ec.value(), "symlink " + (bundle / "work").string());
    GANTRY_TRY(write_file(bundle / "config.json", o.spec, 0644));
    GANTRY_TRY(make_dir(bundle / "rootfs", 0711));
    auto log = LogFifo::open(bundle / "log", o.ns + "/" + o.id);

    google::protobuf::Any opts;
    std::string opts_bytes;
    if (o.options) {
        opts.set_type_url(o.options->type_url);
        opts.set_value(o.options->value);
        opts.SerializeToString(&opts_bytes);
    }
    std::error_code self_ec;
    const std::string self = fsys::read_symlink("/proc/self/exe", self_ec).string();
    ShimInvocation start{*binary,
                         {"-namespace", o.ns, "-address", cfg_.grpc_address, "-publish-binary",
                          self, "-id", o.id, "start"},
                         bundle.string(),
                         {"TTRPC_ADDRESS=" + cfg_.ttrpc_address, "GOMAXPROCS=2"},
                         opts_bytes,
                         std::chrono::seconds(10)};
    auto started = run_shim_command(start, /*combine=*/true);
    if (!started.ok()) return std::move(started).error().wrap("start shim " + *binary);
    const std::string address = trim(started->out);
    if (started->exit_code != 0)
        return Error(Errc::Unknown, "start shim " + *binary + ": exit status " +
                                        std::to_string(started->exit_code) + ": " + address);
    auto fail_with_shim = [&](Error e) -> Error {
        (void)cleanup_dead(o.ns, o.id, bundle, *binary);
        return e;
    };
    if (!address.starts_with("unix://") && !address.starts_with("/"))
        return fail_with_shim(Error(Errc::Unknown, "shim " + *binary +
                                                       " printed no socket address, but: \"" +
                                                       address.substr(0, 200) + "\""));
    GANTRY_TRY(write_file(bundle / "shim-binary-path", *binary, 0644));
    auto client = ttrpc::Client::connect(address);
    if (!client.ok())
        return fail_with_shim(std::move(client).error().wrap("connect to shim at " + address));
    auto task =
        std::make_shared<ShimTask>(o.ns, o.id, bundle, *binary, std::move(*client), std::move(log));

    shimv2::CreateTaskRequest req;
    req.set_id(o.id);
    req.set_bundle(bundle.string());
    for (const auto& m : o.rootfs) {
        auto* pm = req.add_rootfs();
        pm->set_type(m.type);
        pm->set_source(m.source);
        pm->set_target(m.target);
        for (const auto& opt : m.options)
            pm->add_options(opt);
    }
    req.set_terminal(o.terminal);
    req.set_stdin(o.stdin_path);
    req.set_stdout(o.stdout_path);
    req.set_stderr(o.stderr_path);
    req.set_checkpoint(o.checkpoint);
    if (o.options) *req.mutable_options() = opts;
    auto created =
        task->call_as<shimv2::CreateTaskResponse>("Create", req, std::chrono::seconds(60));
    if (!created.ok()) {
        // The shim is alive: ask it to clean up, then make sure with `delete`.
        shimv2::DeleteRequest del;
        del.set_id(o.id);
        (void)task->call("Delete", del, std::chrono::seconds(10));
        shimv2::ShutdownRequest sd;
        sd.set_id(o.id);
        (void)task->call("Shutdown", sd, kShutdownTimeout);
        task->close();
        return fail_with_shim(std::move(created).error());
    }
    if (auto st = task->connect(); !st.ok()) {
        task->close();
        return fail_with_shim(std::move(st).error().wrap("connect to shim"));
    }
    keep = true;
    std::lock_guard lock(mu_);
    tasks_[key] = task;
    return std::static_pointer_cast<Task>(task);
}

Result<std::shared_ptr<Task>> Manager::get(std::string_view ns, std::string_view id) {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(Key{std::string(ns), std::string(id)});
    if (it == tasks_.end()) return not_found("task " + std::string(id) + " not found");
    return std::static_pointer_cast<Task>(it->second);
}

std::vector<std::shared_ptr<Task>> Manager::list(std::string_view ns) {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Task>> out;
    for (const auto& [k, t] : tasks_)
        if (k.first == ns) out.push_back(t);
    return out;
}

Result<DeleteResult> Manager::remove(std::string_view ns, std::string_view id) {
    std::shared_ptr<ShimTask> task;
    {
        std::lock_guard lock(mu_);
        auto it = tasks_.find(Key{std::string(ns), std::string(id)});
        if (it == tasks_.end()) return not_found("task " + std::string(id) + " not found");
        task = it->second;
    }
    shimv2::DeleteRequest del;
    del.set_id(std::string(id));
    auto resp = task->call_as<shimv2::DeleteResponse>("Delete", del, std::chrono::seconds(30));
    DeleteResult r;
    if (!resp.ok()) {
        if (!resp.error().is(Errc::Unavailable)) return std::move(resp).error();
        // The shim is gone: clean up after it as containerd does.
        task->close();
        r = cleanup_dead(std::string(ns), std::string(id), task->bundle(), task->binary());
        publish_exit_and_delete(std::string(ns), std::string(id), r);
    } else {
        r.pid = resp->pid();
        r.exit_status = resp->exit_status();
        r.exited_at_seconds = resp->exited_at().seconds();
        r.exited_at_nanos = resp->exited_at().nanos();
        shimv2::ShutdownRequest sd;
        sd.set_id(std::string(id));
        (void)task->call("Shutdown", sd, kShutdownTimeout); // the shim exits: "closed" is fine
        task->close();
        remove_dirs(std::string(ns), std::string(id));
    }
    std::lock_guard lock(mu_);
    tasks_.erase(Key{std::string(ns), std::string(id)});
    return r;
}

DeleteResult Manager::cleanup_dead(const std::string& ns, const std::string& id,
                                   const fsys::path& bundle, const std::string& binary) {
    DeleteResult r;
    r.exit_status = 255;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    r.exited_at_seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
    std::error_code ec;
    const std::string self = fsys::read_symlink("/proc/self/exe", ec).string();
    if (!binary.empty()) {
        ShimInvocation del{binary,
                           {"-namespace", ns, "-address", cfg_.grpc_address, "-publish-binary",
                            self, "-id", id, "-bundle", bundle.string(), "delete"},
                           bundle.string(),
                           {"TTRPC_ADDRESS=" + cfg_.ttrpc_address},
                           "",
                           std::chrono::seconds(10)};
        auto out = run_shim_command(del, /*combine=*/false);
        if (out.ok() && out->exit_code == 0) {
            shimv2::DeleteResponse resp;
            if (resp.ParseFromString(out->out)) {
                r.pid = resp.pid();
                r.exit_status = resp.exit_status();
                r.exited_at_seconds = resp.exited_at().seconds();
                r.exited_at_nanos = resp.exited_at().nanos();
            }
            if (!out->err.empty()) log::warn("shim delete {}/{}: {}", ns, id, trim(out->err));
        } else {
            log::warn("shim delete {}/{} failed: {}", ns, id,
                      out.ok() ? trim(out->out + out->err) : out.error().message());
        }
    }
    remove_dirs(ns, id);
    return r;
}

void Manager::remove_dirs(const std::string& ns, const std::string& id) {
    const fsys::path bundle = cfg_.state / ns / id, work = cfg_.root / ns / id;
    (void)mount::unmount_all(bundle / "rootfs");
    std::error_code ec;
    // Renamed first so that a crash half-way leaves a dot-name reload skips and clears.
    for (const auto& dir : {bundle, work}) {
        if (!fsys::exists(fsys::symlink_status(dir, ec))) continue;
        const fsys::path hidden = dir.parent_path() / ("." + id);
        fsys::remove_all(hidden, ec);
        fsys::rename(dir, hidden, ec);
        fsys::remove_all(ec ? dir : hidden, ec);
    }
}

void Manager::publish_exit_and_delete(const std::string& ns, const std::string& id,
                                      const DeleteResult& r) {
    if (!publisher_) return;
    containerd::events::TaskExit exit;
    exit.set_container_id(id);
    exit.set_id(id);
    exit.set_pid(r.pid);
    exit.set_exit_status(r.exit_status);
    exit.mutable_exited_at()->set_seconds(r.exited_at_seconds);
    exit.mutable_exited_at()->set_nanos(r.exited_at_nanos);
    (void)publisher_->publish(ns, "/tasks/exit", exit);
    containerd::events::TaskDelete del;
    del.set_container_id(id);
    del.set_pid(r.pid);
    del.set_exit_status(r.exit_status);
    *del.mutable_exited_at() = exit.exited_at();
    (void)publisher_->publish(ns, "/tasks/delete", del);
}

void Manager::reload() {
    std::error_code ec;
    for (const auto& nsdir : fsys::directory_iterator(cfg_.state, ec)) {
        if (!nsdir.is_directory()) continue;
        const std::string ns = nsdir.path().filename().string();
        for (const auto& entry : fsys::directory_iterator(nsdir.path(), ec)) {
            const std::string id = entry.path().filename().string();
            if (!entry.is_directory()) continue;
            if (id.starts_with(".")) {
                fsys::remove_all(entry.path(), ec); // a delete that a crash interrupted
                continue;
            }
            if (fsys::is_empty(entry.path(), ec)) {
                fsys::remove(entry.path(), ec);
                continue;
            }
            const std::string address = trim(read_file(entry.path() / "address"));
            const std::string binary = trim(read_file(entry.path() / "shim-binary-path"));
            std::unique_ptr<ttrpc::Client> client;
            if (!address.empty()) {
                auto c = ttrpc::Client::connect(address);
                if (c.ok()) client = std::move(*c);
            }
            if (client) {
                auto task =
                    std::make_shared<ShimTask>(ns, id, entry.path(), binary, std::move(client),
                                               LogFifo::open(entry.path() / "log", ns + "/" + id));
                if (task->connect().ok()) {
                    log::info("reconnected to the shim of task {}/{} (pid {})", ns, id,
                              task->pid());
                    std::lock_guard lock(mu_);
                    tasks_[{ns, id}] = task;
                    continue;
                }
                task->close();
            }
            log::warn("the shim of task {}/{} is gone; cleaning up", ns, id);
            publish_exit_and_delete(ns, id, cleanup_dead(ns, id, entry.path(), binary));
        }
    }
    // Work directories with no bundle belong to nothing.
    for (const auto& nsdir : fsys::directory_iterator(cfg_.root, ec)) {
        if (!nsdir.is_directory()) continue;
        for (const auto& entry : fsys::directory_iterator(nsdir.path(), ec)) {
            const std::string id = entry.path().filename().string();
            std::lock_guard lock(mu_);
            if (!tasks_.count({nsdir.path().filename().string(), id}))
                fsys::remove_all(entry.path(), ec);
        }
    }
}

} // namespace gantry::runtime
