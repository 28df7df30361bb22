// containerd.task.v2.Task for one container and its exec processes, on the shim's loop.
#pragma once

#include "shims/gantry-shim/events.hpp"
#include "shims/gantry-shim/io.hpp"
#include "shims/gantry-shim/loop.hpp"
#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/runtime.hpp"
#include "shims/gantry-shim/ttrpc.hpp"

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gantry::shim {

// containerd.v1.types.Status
enum class State : uint32_t {
    Unknown = 0,
    Created = 1,
    Running = 2,
    Stopped = 3,
    Paused = 4,
    Pausing = 5
};

struct Process {
    std::string id; // the container id for init, else the exec id
    bool init = false;
    int pid = 0;
    State state = State::Created;
    uint32_t exitStatus = 0;
    timespec exitedAt{};
    std::string stdinPath, stdoutPath, stderrPath;
    bool terminal = false;
    std::string spec; // exec: the OCI process JSON
    // init created from a checkpoint: the image dir that Start restores from (checkpoint.cpp)
    std::string checkpoint;
    std::vector<ttrpc::Call> waiters;
    Fd console;
    std::unique_ptr<Pump> stdinPump;
    std::unique_ptr<Pump> outputPump;
};

class Service {
public:
    Service(Loop& loop, ttrpc::Server& server, Publisher& events, std::string ns,
            std::string bundle);
    ~Service();

    void handle(ttrpc::Call call, const ttrpc::Request& req);
    // A reaped child; unknown pids (runtime helpers, reparented orphans) are ignored.
    void onExit(int pid, int waitStatus);
    // Set once Shutdown found nothing left to serve (or was told `now`).
    bool shutdownRequested() const { return shutdown_; }

private:
    void create(ttrpc::Call call, const pb::Message& m);
    void start(ttrpc::Call call, const pb::Message& m);
    void remove(ttrpc::Call call, const pb::Message& m);
    void exec(ttrpc::Call call, const pb::Message& m);
    void state(ttrpc::Call call, const pb::Message& m);
    void kill(ttrpc::Call call, const pb::Message& m);
    void pids(ttrpc::Call call, const pb::Message& m);
    void wait(ttrpc::Call call, const pb::Message& m);
    void stats(ttrpc::Call call, const pb::Message& m);
    void pauseResume(ttrpc::Call call, const pb::Message& m, bool pause);
    void resizePty(ttrpc::Call call, const pb::Message& m);
    void closeIo(ttrpc::Call call, const pb::Message& m);
    void update(ttrpc::Call call, const pb::Message& m);
    void connect(ttrpc::Call call, const pb::Message& m);
    void shutdown(ttrpc::Call call, const pb::Message& m);
    // checkpoint.cpp
    void checkpoint(ttrpc::Call call, const pb::Message& m);
    void restore(ttrpc::Call call, Process& init);

    // The process named by (id, exec_id), or a NotFound status in `err`.
    Process* find(std::string_view id, std::string_view execId, ttrpc::Status& err);
    std::string startIo(Process& p, ProcessIo& io);
    void watchInitOom();
    void publishCreate(const pb::Message& createRequest);
    void unwatchOom();
    // Records an exit: TaskExit, and every parked Wait answered.
    void markExited(Process& p, int status);
    void publish(std::string_view topic, std::string_view type, const pb::Writer& event);

    Loop& loop_;
    ttrpc::Server& server_;
    Publisher& events_;
    std::string ns_;
    std::string bundle_;
    std::unique_ptr<Runtime> runtime_;
    std::unique_ptr<Process> init_;
    std::map<std::string, std::unique_ptr<Process>> execs_;
    Fd oomEvent_;
    std::string oomControl_;
    bool shutdown_ = false;
};

} // namespace gantry::shim
