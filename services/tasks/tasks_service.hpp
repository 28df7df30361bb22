// containerd.services.tasks.v1.Tasks over the runtime v2 task manager (protocol-facts §2.11):
// looks up the container for Create, turns each v1 request into the shim's request, and the
// shim's reply into the v1 response.
#pragma once

#include "services/tasks/v1/tasks.grpc.pb.h"

#include <memory>

namespace gantry::containers {
class Store;
}
namespace gantry::runtime {
class TaskManager;
}

namespace gantry::services {

namespace tasks_v1 = containerd::services::tasks::v1;

class TasksService final : public tasks_v1::Tasks::Service {
public:
    TasksService(std::shared_ptr<runtime::TaskManager> tasks,
                 std::shared_ptr<containers::Store> containers);

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
    std::shared_ptr<runtime::TaskManager> tasks_;
    std::shared_ptr<containers::Store> containers_;
};

} // namespace gantry::services
