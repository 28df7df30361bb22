// The runtime v2 task manager (io.containerd.runtime.v2.task): bundles under
// <state>/io.containerd.runtime.v2.task/<ns>/<id>, work dirs under the root, one shim per task
// started through its `start` command and then spoken to over ttrpc (protocol-facts §10).
#pragma once

#include "core/events/publisher.hpp"
#include "core/runtime/task_manager.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace gantry::runtime {

struct ManagerConfig {
    std::filesystem::path state; // <state>/io.containerd.runtime.v2.task
    std::filesystem::path root;  // <root>/io.containerd.runtime.v2.task
    std::string grpc_address;    // given to shims as -address
    std::string ttrpc_address;   // TTRPC_ADDRESS: where shims publish events
    std::map<std::string, std::string, std::less<>> shim_overrides; // runtime name -> binary
};

class ShimTask;

class Manager final : public TaskManager {
public:
    Manager(ManagerConfig cfg, std::shared_ptr<events::Publisher> publisher);
    ~Manager() override;

    // Reconnects to the shims of a previous daemon run; cleans up after those that are gone
    // (§10.6). Problems with one bundle are logged and never stop the others.
    void reload();

    Result<std::shared_ptr<Task>> create(const CreateOptions& options) override;
    Result<std::shared_ptr<Task>> get(std::string_view ns, std::string_view id) override;
    std::vector<std::shared_ptr<Task>> list(std::string_view ns) override;
    Result<DeleteResult> remove(std::string_view ns, std::string_view id) override;

private:
    using Key = std::pair<std::string, std::string>;
    // Runs the shim's `delete` for a shim that is gone, then removes mounts and directories.
    DeleteResult cleanup_dead(const std::string& ns, const std::string& id,
                              const std::filesystem::path& bundle, const std::string& binary);
    void remove_dirs(const std::string& ns, const std::string& id);
    void publish_exit_and_delete(const std::string& ns, const std::string& id,
                                 const DeleteResult& r);

    ManagerConfig cfg_;
    std::shared_ptr<events::Publisher> publisher_;
    std::mutex mu_;
    std::map<Key, std::shared_ptr<ShimTask>> tasks_;
    std::map<Key, bool> creating_; // ids being created: a second Create is AlreadyExists
};

} // namespace gantry::runtime
