// containerd.services.tasks.v1.Tasks over the runtime v2 task manager (protocol-facts §2.11):
// looks up the container for Create, turns each v1 request into the shim's request, and the
// shim's reply into the v1 response.
#pragma once

#include "services/tasks/v1/tasks.grpc.pb.h"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace gantry::containers {
class Store;
}
namespace gantry::content {
class Store;
}
namespace gantry::services::checkpoint {
class TempDir;
}
namespace gantry::runtime {
class TaskManager;
}

namespace gantry::services {

namespace tasks_v1 = containerd::services::tasks::v1;

class TasksService final : public tasks_v1::Tasks::Service {
public:
    // `content` (may be null: no checkpoints then) receives checkpoint images; `work` is a
    // private directory for checkpoint and restore images in transit (emptied here: what is
    // there was left by a previous run).
    TasksService(std::shared_ptr<runtime::TaskManager> tasks,
                 std::shared_ptr<containers::Store> containers,
                 std::shared_ptr<content::Store> content = nullptr,
                 std::filesystem::path work = {});
    ~TasksService() override;

    grpc::Status Create(grpc::ServerContext*, const tasks_v1::CreateTaskRequest*,
                        tasks_v1::CreateTaskResponse*) override;
    grpc::Status Start(grpc::ServerContext*, const tasks_v1::StartRequest*,
                       tasks_v1::StartResponse*) override;
    grpc::Status Delete(grpc::ServerContext*, const tasks_v1::DeleteTaskRequest*,
                        tasks_v1::DeleteResponse*) override;
    grpc::Status DeleteProcess(grpc::ServerContext*, const tasks_v1::DeleteProcessRequest*,
                               tasks_v1::DeleteResponse*) override;
    grpc::Status Get(grpc::ServerContext*, const tasks_v1::GetRequest*,
                     tasks_v1::GetResponse*) override;
    grpc::Status List(grpc::ServerContext*, const tasks_v1::ListTasksRequest*,
                      tasks_v1::ListTasksResponse*) override;
    grpc::Status Kill(grpc::ServerContext*, const tasks_v1::KillRequest*,
                      google::protobuf::Empty*) override;
    grpc::Status Exec(grpc::ServerContext*, const tasks_v1::ExecProcessRequest*,
                      google::protobuf::Empty*) override;
    grpc::Status ResizePty(grpc::ServerContext*, const tasks_v1::ResizePtyRequest*,
                           google::protobuf::Empty*) override;
    grpc::Status CloseIO(grpc::ServerContext*, const tasks_v1::CloseIORequest*,
                         google::protobuf::Empty*) override;
    grpc::Status Pause(grpc::ServerContext*, const tasks_v1::PauseTaskRequest*,
                       google::protobuf::Empty*) override;
    grpc::Status Resume(grpc::ServerContext*, const tasks_v1::ResumeTaskRequest*,
                        google::protobuf::Empty*) override;
    grpc::Status ListPids(grpc::ServerContext*, const tasks_v1::ListPidsRequest*,
                          tasks_v1::ListPidsResponse*) override;
    grpc::Status Checkpoint(grpc::ServerContext*, const tasks_v1::CheckpointTaskRequest*,
                            tasks_v1::CheckpointTaskResponse*) override;
    grpc::Status Update(grpc::ServerContext*, const tasks_v1::UpdateTaskRequest*,
                        google::protobuf::Empty*) override;
    grpc::Status Metrics(grpc::ServerContext*, const tasks_v1::MetricsRequest*,
                         tasks_v1::MetricsResponse*) override;
    grpc::Status Wait(grpc::ServerContext*, const tasks_v1::WaitRequest*,
                      tasks_v1::WaitResponse*) override;

private:
    using Key = std::pair<std::string, std::string>; // namespace, container id
    // Drops the restore image of a task once it is no longer needed (restored or deleted).
    void drop_restore_dir(const Key& key);

    std::shared_ptr<runtime::TaskManager> tasks_;
    std::shared_ptr<containers::Store> containers_;
    std::shared_ptr<content::Store> content_;
    std::filesystem::path work_;
    // Unpacked checkpoints of tasks created from one: the shim restores from them at Start.
    std::mutex mu_;
    std::map<Key, std::unique_ptr<checkpoint::TempDir>> restore_dirs_;
};

} // namespace gantry::services
