#include "services/tasks/tasks_service.hpp"

#include "core/filters/adaptor.hpp"
#include "core/filters/filter.hpp"
#include "core/metadata/containers.hpp"
#include "core/metadata/identifiers.hpp"
#include "core/runtime/task_manager.hpp"
#include "runtime/task/v2/shim.pb.h"
#include "services/grpc_status.hpp"
#include "services/request_context.hpp"
#include "services/tasks/checkpoint.hpp"

#include <chrono>
#include <google/protobuf/any.pb.h>
#include <optional>

namespace gantry::services {
namespace {

namespace shimv2 = containerd::task::v2;
using runtime::Task;

// The namespace and the container's task, or the error to return.
struct Found {
    std::string ns;
    std::shared_ptr<Task> task;
};

Result<Found> find(runtime::TaskManager& tm, const grpc::ServerContext& ctx, std::string_view id) {
    GANTRY_ASSIGN_OR_RETURN(std::string ns, require_namespace(ctx));
    if (id.empty()) return invalid_argument("container id must not be empty");
    GANTRY_ASSIGN_OR_RETURN(auto task, tm.get(ns, id));
    return Found{std::move(ns), std::move(task)};
}

// Forwards a request whose reply is Empty.
template <typename ShimReq>
grpc::Status forward(runtime::TaskManager& tm, const grpc::ServerContext& ctx, std::string_view id,
                     std::string_view method, const ShimReq& req) {
    auto f = find(tm, ctx, id);
    if (!f.ok()) return to_grpc(f.error());
    auto r = f->task->call(method, req, std::chrono::seconds(30));
    if (!r.ok()) return to_grpc(r.error());
    return grpc::Status::OK;
}

void to_process(const shimv2::StateResponse& s, std::string_view exec_id,
                containerd::v1::types::Process* p) {
    p->set_id(exec_id.empty() ? s.id() : std::string(exec_id));
    p->set_pid(s.pid());
    p->set_status(s.status());
    p->set_stdin(s.stdin());
    p->set_stdout(s.stdout());
    p->set_stderr(s.stderr());
    p->set_terminal(s.terminal());
    p->set_exit_status(s.exit_status());
    *p->mutable_exited_at() = s.exited_at();
}

Result<shimv2::StateResponse> state(Task& task, std::string_view exec_id) {
    shimv2::StateRequest req;
    req.set_id(task.id());
    req.set_exec_id(std::string(exec_id));
    return task.call_as<shimv2::StateResponse>("State", req, std::chrono::seconds(2));
}

} // namespace

TasksService::TasksService(std::shared_ptr<runtime::TaskManager> tasks,
                           std::shared_ptr<containers::Store> containers,
                           std::shared_ptr<content::Store> content, std::filesystem::path work)
    : tasks_(std::move(tasks)), containers_(std::move(containers)), content_(std::move(content)),
      work_(std::move(work)) {
    std::error_code ec;
    if (!work_.empty()) {
        // Images in transit when a previous daemon stopped belong to no request now.
        for (const auto& e : std::filesystem::directory_iterator(work_, ec))
            std::filesystem::remove_all(e.path(), ec);
    }
}

TasksService::~TasksService() = default;

void TasksService::drop_restore_dir(const Key& key) {
    std::lock_guard lock(mu_);
    restore_dirs_.erase(key);
}

grpc::Status TasksService::Create(grpc::ServerContext* ctx, const tasks_v1::CreateTaskRequest* req,
                                  tasks_v1::CreateTaskResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto c = containers_->get(*ns, req->container_id());
    if (!c.ok()) return to_grpc(c.error());
    if (!c->spec) return to_grpc(failed_precondition("container " + c->id + " has no spec"));

    // Restoring: from a directory named in the runc options, else from a checkpoint blob
    // unpacked into a directory that lives until the task is started or deleted.
    std::string restore_path;
    std::unique_ptr<checkpoint::TempDir> restore_dir;
    if (req->has_options()) {
        auto p =
            checkpoint::requested_restore_path(req->options().type_url(), req->options().value());
        if (!p.ok()) return to_grpc(p.error());
        restore_path = *p;
    }
    if (restore_path.empty() && req->has_checkpoint()) {
        const auto& d = req->checkpoint();
        if (d.media_type() != checkpoint::kCriuTarMediaType)
            return to_grpc(invalid_argument("unsupported checkpoint type \"" + d.media_type() +
                                            "\" (want " +
                                            std::string(checkpoint::kCriuTarMediaType) + ")"));
        if (d.digest().empty())
            return to_grpc(invalid_argument("checkpoint descriptor has no digest"));
        if (!content_ || work_.empty())
            return to_grpc(failed_precondition("no content store: cannot restore a checkpoint"));
        auto dir = checkpoint::TempDir::make(work_, "restore-");
        if (!dir.ok()) return to_grpc(dir.error());
        restore_dir = std::make_unique<checkpoint::TempDir>(std::move(*dir));
        if (auto st = checkpoint::unpack(*content_, *ns, d.digest(), restore_dir->path()); !st.ok())
            return to_grpc(st.error());
        restore_path = restore_dir->path().string();
    }
    runtime::CreateOptions o;
    o.ns = *ns;
    o.id = c->id;
    o.runtime = c->runtime.name;
    o.runtime_path = req->runtime_path();
    o.spec = c->spec->value;
    if (req->has_options() && !req->options().type_url().empty())
        o.options = runtime::AnyBytes{req->options().type_url(), req->options().value()};
    else if (c->runtime.options)
        o.options = runtime::AnyBytes{c->runtime.options->type_url, c->runtime.options->value};
    for (const auto& m : req->rootfs())
        o.rootfs.push_back(
            {m.type(), m.source(), m.target(), {m.options().begin(), m.options().end()}});
    o.stdin_path = req->stdin();
    o.stdout_path = req->stdout();
    o.stderr_path = req->stderr();
    o.terminal = req->terminal();
    o.checkpoint = restore_path;
    auto task = tasks_->create(o);
    if (!task.ok()) return to_grpc(task.error());
    if (restore_dir) {
        std::lock_guard lock(mu_);
        restore_dirs_[{*ns, c->id}] = std::move(restore_dir);
    }
    resp->set_container_id(c->id);
    resp->set_pid((*task)->pid());
    return grpc::Status::OK;
}

grpc::Status TasksService::Start(grpc::ServerContext* ctx, const tasks_v1::StartRequest* req,
                                 tasks_v1::StartResponse* resp) {
    auto f = find(*tasks_, *ctx, req->container_id());
    if (!f.ok()) return to_grpc(f.error());
    shimv2::StartRequest sreq;
    sreq.set_id(req->container_id());
    sreq.set_exec_id(req->exec_id());
    auto r = f->task->call_as<shimv2::StartResponse>("Start", sreq);
    if (!r.ok()) return to_grpc(r.error());
    // A restored task no longer needs its images (a failed restore keeps them for a retry).
    if (req->exec_id().empty()) drop_restore_dir({f->ns, req->container_id()});
    resp->set_pid(r->pid());
    return grpc::Status::OK;
}

grpc::Status TasksService::Delete(grpc::ServerContext* ctx, const tasks_v1::DeleteTaskRequest* req,
                                  tasks_v1::DeleteResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    auto r = tasks_->remove(*ns, req->container_id());
    if (r.ok() || r.error().is(Errc::NotFound)) drop_restore_dir({*ns, req->container_id()});
    if (!r.ok()) return to_grpc(r.error());
    resp->set_pid(r->pid);
    resp->set_exit_status(r->exit_status);
    resp->mutable_exited_at()->set_seconds(r->exited_at_seconds);
    resp->mutable_exited_at()->set_nanos(r->exited_at_nanos);
    return grpc::Status::OK;
}

grpc::Status TasksService::DeleteProcess(grpc::ServerContext* ctx,
                                         const tasks_v1::DeleteProcessRequest* req,
                                         tasks_v1::DeleteResponse* resp) {
    auto f = find(*tasks_, *ctx, req->container_id());
    if (!f.ok()) return to_grpc(f.error());
    shimv2::DeleteRequest d;
    d.set_id(req->container_id());
    d.set_exec_id(req->exec_id());
    auto r = f->task->call_as<shimv2::DeleteResponse>("Delete", d);
    if (!r.ok()) return to_grpc(r.error());
    resp->set_id(req->exec_id());
    resp->set_pid(r->pid());
    resp->set_exit_status(r->exit_status());
    *resp->mutable_exited_at() = r->exited_at();
    return grpc::Status::OK;
}

grpc::Status TasksService::Get(grpc::ServerContext* ctx, const tasks_v1::GetRequest* req,
                               tasks_v1::GetResponse* resp) {
    auto f = find(*tasks_, *ctx, req->container_id());
    if (!f.ok()) return to_grpc(f.error());
    auto s = state(*f->task, req->exec_id());
    if (!s.ok()) return to_grpc(s.error());
    to_process(*s, req->exec_id(), resp->mutable_process());
    return grpc::Status::OK;
}

grpc::Status TasksService::List(grpc::ServerContext* ctx, const tasks_v1::ListTasksRequest*,
                                tasks_v1::ListTasksResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    for (const auto& t : tasks_->list(*ns)) {
        auto s = state(*t, "");
        if (!s.ok()) continue; // a shim that is going away is not listed (as containerd)
        to_process(*s, "", resp->add_tasks());
    }
    return grpc::Status::OK;
}

grpc::Status TasksService::Kill(grpc::ServerContext* ctx, const tasks_v1::KillRequest* req,
                                google::protobuf::Empty*) {
    shimv2::KillRequest k;
    k.set_id(req->container_id());
    k.set_exec_id(req->exec_id());
    k.set_signal(req->signal());
    k.set_all(req->all());
    return forward(*tasks_, *ctx, req->container_id(), "Kill", k);
}

grpc::Status TasksService::Exec(grpc::ServerContext* ctx, const tasks_v1::ExecProcessRequest* req,
                                google::protobuf::Empty*) {
    if (auto st = metadata::validate_identifier(req->exec_id()); !st.ok())
        return to_grpc(st.error().wrap("invalid exec id"));
    shimv2::ExecProcessRequest e;
    e.set_id(req->container_id());
    e.set_exec_id(req->exec_id());
    e.set_terminal(req->terminal());
    e.set_stdin(req->stdin());
    e.set_stdout(req->stdout());
    e.set_stderr(req->stderr());
    *e.mutable_spec() = req->spec();
    return forward(*tasks_, *ctx, req->container_id(), "Exec", e);
}

grpc::Status TasksService::ResizePty(grpc::ServerContext* ctx,
                                     const tasks_v1::ResizePtyRequest* req,
                                     google::protobuf::Empty*) {
    shimv2::ResizePtyRequest r;
    r.set_id(req->container_id());
    r.set_exec_id(req->exec_id());
    r.set_width(req->width());
    r.set_height(req->height());
    return forward(*tasks_, *ctx, req->container_id(), "ResizePty", r);
}

grpc::Status TasksService::CloseIO(grpc::ServerContext* ctx, const tasks_v1::CloseIORequest* req,
                                   google::protobuf::Empty*) {
    shimv2::CloseIORequest r;
    r.set_id(req->container_id());
    r.set_exec_id(req->exec_id());
    r.set_stdin(req->stdin());
    return forward(*tasks_, *ctx, req->container_id(), "CloseIO", r);
}

grpc::Status TasksService::Pause(grpc::ServerContext* ctx, const tasks_v1::PauseTaskRequest* req,
                                 google::protobuf::Empty*) {
    shimv2::PauseRequest r;
    r.set_id(req->container_id());
    return forward(*tasks_, *ctx, req->container_id(), "Pause", r);
}

grpc::Status TasksService::Resume(grpc::ServerContext* ctx, const tasks_v1::ResumeTaskRequest* req,
                                  google::protobuf::Empty*) {
    shimv2::ResumeRequest r;
    r.set_id(req->container_id());
    return forward(*tasks_, *ctx, req->container_id(), "Resume", r);
}

grpc::Status TasksService::ListPids(grpc::ServerContext* ctx, const tasks_v1::ListPidsRequest* req,
                                    tasks_v1::ListPidsResponse* resp) {
    auto f = find(*tasks_, *ctx, req->container_id());
    if (!f.ok()) return to_grpc(f.error());
    shimv2::PidsRequest p;
    p.set_id(req->container_id());
    auto r = f->task->call_as<shimv2::PidsResponse>("Pids", p);
    if (!r.ok()) return to_grpc(r.error());
    *resp->mutable_processes() = r->processes();
    return grpc::Status::OK;
}

// As containerd: the shim dumps the task into a private directory, which is then stored as a
// tar blob next to the container's spec; the directory goes in every case. A client that names
// its own image path (runc CheckpointOptions.image_path) keeps the images there instead.
grpc::Status TasksService::Checkpoint(grpc::ServerContext* ctx,
                                      const tasks_v1::CheckpointTaskRequest* req,
                                      tasks_v1::CheckpointTaskResponse* resp) {
    auto f = find(*tasks_, *ctx, req->container_id());
    if (!f.ok()) return to_grpc(f.error());
    auto c = containers_->get(f->ns, req->container_id());
    if (!c.ok()) return to_grpc(c.error());
    std::string image_path;
    if (req->has_options()) {
        auto p =
            checkpoint::requested_image_path(req->options().type_url(), req->options().value());
        if (!p.ok()) return to_grpc(p.error());
        image_path = *p;
    }
    std::optional<checkpoint::TempDir> tmp;
    if (image_path.empty()) {
        if (!content_ || work_.empty())
            return to_grpc(failed_precondition("no content store: cannot store a checkpoint"));
        auto dir = checkpoint::TempDir::make(work_, "checkpoint-");
        if (!dir.ok()) return to_grpc(dir.error());
        tmp.emplace(std::move(*dir));
        image_path = tmp->path().string();
    }
    shimv2::CheckpointTaskRequest sreq;
    sreq.set_id(req->container_id());
    sreq.set_path(image_path);
    if (req->has_options()) *sreq.mutable_options() = req->options();
    // CRIU writes all of the task's memory: allow it time.
    auto r = f->task->call("Checkpoint", sreq, std::chrono::minutes(10));
    if (!r.ok()) return to_grpc(checkpoint::explain_failure(r.error(), req->container_id()));
    if (!tmp) return grpc::Status::OK;

    const std::string lease = optional_lease(*ctx);
    auto tar = checkpoint::write_dir(*content_, f->ns, lease, image_path,
                                     checkpoint::kCriuTarMediaType, tmp->path());
    if (!tar.ok()) return to_grpc(tar.error());
    std::string spec_bytes;
    if (c->spec) {
        google::protobuf::Any spec;
        spec.set_type_url(c->spec->type_url);
        spec.set_value(c->spec->value);
        spec.SerializeToString(&spec_bytes);
    }
    auto config = checkpoint::write_bytes(*content_, f->ns, lease, image_path + "/spec",
                                          checkpoint::kConfigMediaType, spec_bytes);
    if (!config.ok()) return to_grpc(config.error());
    for (const auto& b : {*tar, *config}) {
        auto* d = resp->add_descriptors();
        d->set_media_type(b.media_type);
        d->set_digest(b.digest);
        d->set_size(b.size);
    }
    return grpc::Status::OK;
}

grpc::Status TasksService::Update(grpc::ServerContext* ctx, const tasks_v1::UpdateTaskRequest* req,
                                  google::protobuf::Empty*) {
    shimv2::UpdateTaskRequest u;
    u.set_id(req->container_id());
    *u.mutable_resources() = req->resources();
    u.mutable_annotations()->insert(req->annotations().begin(), req->annotations().end());
    return forward(*tasks_, *ctx, req->container_id(), "Update", u);
}

grpc::Status TasksService::Metrics(grpc::ServerContext* ctx, const tasks_v1::MetricsRequest* req,
                                   tasks_v1::MetricsResponse* resp) {
    auto ns = require_namespace(*ctx);
    if (!ns.ok()) return to_grpc(ns.error());
    std::vector<std::string> fs(req->filters().begin(), req->filters().end());
    auto filter = filters::parse(std::span<const std::string>(fs));
    if (!filter.ok()) return to_grpc(filter.error());
    for (const auto& t : tasks_->list(*ns)) {
        const std::string& id = t->id();
        const std::string& nsr = *ns;
        const bool match = filter->match(filters::adapt(
            [&](std::span<const std::string> path) -> std::optional<std::string_view> {
                if (path.size() == 1 && path[0] == "id") return id;
                if (path.size() == 1 && path[0] == "namespace") return nsr;
                return std::nullopt;
            }));
        if (!match) continue;
        shimv2::StatsRequest s;
        s.set_id(t->id());
        auto r = t->call_as<shimv2::StatsResponse>("Stats", s);
        if (!r.ok()) return to_grpc(r.error());
        auto* m = resp->add_metrics();
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        m->mutable_timestamp()->set_seconds(
            std::chrono::duration_cast<std::chrono::seconds>(now).count());
        m->mutable_timestamp()->set_nanos(static_cast<std::int32_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1000000000));
        m->set_id(t->id());
        *m->mutable_data() = r->stats();
    }
    return grpc::Status::OK;
}

grpc::Status TasksService::Wait(grpc::ServerContext* ctx, const tasks_v1::WaitRequest* req,
                                tasks_v1::WaitResponse* resp) {
    auto f = find(*tasks_, *ctx, req->container_id());
    if (!f.ok()) return to_grpc(f.error());
    shimv2::WaitRequest w;
    w.set_id(req->container_id());
    w.set_exec_id(req->exec_id());
    auto r = f->task->call_as<shimv2::WaitResponse>("Wait", w, std::nullopt);
    if (!r.ok()) return to_grpc(r.error());
    resp->set_exit_status(r->exit_status());
    *resp->mutable_exited_at() = r->exited_at();
    return grpc::Status::OK;
}

} // namespace gantry::services
