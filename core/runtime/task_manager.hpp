// Runtime v2 (protocol-facts §10): tasks run by one shim process each, spoken to over ttrpc.
// The task manager (plugins/runtime, io.containerd.runtime.v2.task) owns the bundles, starts and
// reconnects shims, and cleans up after dead ones; the Tasks gRPC service (services/tasks) turns
// v1 API calls into shim calls on the Task a container has.
//
// The shim's own messages (containerd.task.v2, api/runtime/task/v2/shim.proto) are the currency
// here: the service fills them, the Task carries them to the shim unchanged.
#pragma once

#include "core/errors.hpp"
#include "core/mount/mount.hpp"

#include <chrono>
#include <cstdint>
#include <google/protobuf/message.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::runtime {

inline constexpr std::string_view kShimService = "containerd.task.v2.Task";

// A google.protobuf.Any as bytes: type URL and value.
struct AnyBytes {
    std::string type_url;
    std::string value;
};

struct CreateOptions {
    std::string ns;
    std::string id;
    std::string runtime;             // e.g. io.containerd.runc.v2
    std::string runtime_path;        // overrides the shim binary when set
    std::string spec;                // OCI runtime spec JSON, written as config.json
    std::optional<AnyBytes> options; // given to the shim on `start` and in Create
    std::vector<mount::Mount> rootfs;
    std::string stdin_path, stdout_path, stderr_path;
    bool terminal = false;
    std::string checkpoint; // a directory of CRIU images to restore from (the shim's Create)
};

// One task's shim connection.
class Task {
public:
    virtual ~Task() = default;
    virtual const std::string& ns() const = 0;
    virtual const std::string& id() const = 0;
    virtual const std::string& bundle() const = 0;
    virtual std::uint32_t pid() const = 0; // the init process, from Connect
    virtual std::uint32_t shim_pid() const = 0;

    // One shim RPC: `method` of containerd.task.v2.Task; the reply bytes. Unavailable when the
    // shim is gone. `timeout` nullopt: none (Wait).
    virtual Result<std::string> call(std::string_view method, const google::protobuf::Message& req,
                                     std::optional<std::chrono::nanoseconds> timeout) = 0;

    template <typename Resp>
    Result<Resp>
    call_as(std::string_view method, const google::protobuf::Message& req,
            std::optional<std::chrono::nanoseconds> timeout = std::chrono::seconds(30)) {
        GANTRY_ASSIGN_OR_RETURN(std::string bytes, call(method, req, timeout));
        Resp resp;
        if (!resp.ParseFromString(bytes))
            return internal_error("shim: cannot parse the reply to " + std::string(method));
        return resp;
    }
};

struct DeleteResult {
    std::uint32_t pid = 0;
    std::uint32_t exit_status = 0;
    std::int64_t exited_at_seconds = 0;
    std::int32_t exited_at_nanos = 0;
};

class TaskManager {
public:
    virtual ~TaskManager() = default;
    // Makes the bundle, starts the shim, sends Create and Connect. AlreadyExists when the
    // container has a task; on any failure nothing is left (shim, mounts, bundle).
    virtual Result<std::shared_ptr<Task>> create(const CreateOptions& options) = 0;
    // NotFound `task <id> not found` (containerd's wording is produced by the service).
    virtual Result<std::shared_ptr<Task>> get(std::string_view ns, std::string_view id) = 0;
    virtual std::vector<std::shared_ptr<Task>> list(std::string_view ns) = 0;
    // Shim Delete, Shutdown, unmount, remove the bundle. A shim that is gone is cleaned up
    // with the shim binary's `delete` and reported with exit status 255 (as containerd).
    virtual Result<DeleteResult> remove(std::string_view ns, std::string_view id) = 0;
};

} // namespace gantry::runtime
