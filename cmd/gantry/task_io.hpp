// The client side of a task's or exec process's stdio, shared by `gantry run`, `tasks start`,
// `tasks exec` and `tasks attach`: FIFOs in a private directory (containerd's cio layout,
// "<dir>/<id>-stdin|-stdout|-stderr"), copied to and from our own stdio; a raw terminal and
// size forwarding for -t; signals forwarded as Kill; and the Wait that is sent before Start so
// that no exit can be missed.
#pragma once

#include "cmd/gantry/client.hpp"
#include "core/errors.hpp"
#include "core/fs/unique_fd.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <termios.h>
#include <thread>
#include <vector>

namespace gantry::cli {

// Where gantry puts its FIFOs unless --fifo-dir says otherwise (ctr: /run/containerd/fifo).
inline constexpr const char* kDefaultFifoDir = "/run/gantry/fifo";

// Blocks the signals gantry forwards (and SIGWINCH) in the calling thread and in every thread
// it starts later; the forwarding thread takes them with sigtimedwait. Call it first thing in
// a command, before any thread (gRPC's included) exists.
void block_forwarded_signals();

// What the shim is told: stdio paths (FIFOs, or a log URI for stdout/stderr) and the terminal
// flag. Empty paths are not connected.
struct StdioConfig {
    std::string in;
    std::string out;
    std::string err;
    bool terminal = false;
};

// FIFOs in a fresh 0700 directory under `root`, removed with the object unless keep() was
// called (a detached process keeps its FIFOs so that `tasks attach` can find them). With a
// terminal there is no stderr FIFO: the terminal carries both streams.
class FifoSet {
public:
    static Result<std::unique_ptr<FifoSet>> create(const std::string& root, const std::string& id,
                                                   bool terminal);
    ~FifoSet();
    FifoSet(const FifoSet&) = delete;
    FifoSet& operator=(const FifoSet&) = delete;

    const StdioConfig& config() const noexcept { return config_; }
    void keep() noexcept { keep_ = true; }

private:
    FifoSet() = default;
    std::filesystem::path dir_;
    StdioConfig config_;
    bool keep_ = false;
};

// Our ends of a process's FIFOs and the threads that copy them: stdout/stderr FIFOs to fds 1
// and 2, fd 0 to the stdin FIFO. Opened before the process is created; paths that are not FIFOs
// (a log URI) are left alone.
class StdioCopier {
public:
    static Result<std::unique_ptr<StdioCopier>> open(const StdioConfig& config);
    ~StdioCopier();
    StdioCopier(const StdioCopier&) = delete;
    StdioCopier& operator=(const StdioCopier&) = delete;

    // Starts copying. `on_stdin_eof`, if set, runs once when our stdin ends while the process
    // still runs (CloseIO, so that the process sees its end of input).
    void start(std::function<void()> on_stdin_eof);
    // After the process exited: copies what is still buffered (bounded in time), then stops.
    void finish();

private:
    StdioCopier() = default;
    std::vector<fs::UniqueFd> outs_; // [fd, destination] pairs: see out_dest_
    std::vector<int> out_dest_;
    fs::UniqueFd in_;
    std::atomic<bool> stop_{false};
    fs::UniqueFd stop_fd_; // an eventfd, readable once finish() was called: wakes the threads
    std::vector<std::thread> threads_;
};

// Puts our terminal (fd 0) in raw mode for the object's lifetime, when fd 0 is a terminal.
class RawTerminal {
public:
    RawTerminal();
    ~RawTerminal();
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

// One process of a task: the init process when exec_id is empty, else an exec process.
struct ProcessRef {
    const Client& client;
    std::string container_id;
    std::string exec_id;
};

struct AttachOptions {
    StdioCopier* io = nullptr; // null: nothing to copy (null IO, log URI, detached stdio)
    bool terminal = false;     // raw mode and size forwarding
    // CloseIO when our stdin ends, so that the process reads its end of input. Not with a
    // terminal (a shim may hang up the console then) nor for `tasks attach`, as ctr.
    bool close_stdin_on_eof = true;
};

// Tasks.Start of the process.
Status start_process(const ProcessRef& process);

// Everything between "process created" and "process exited": sends Wait, runs `start` (may be
// empty, when attaching to a running process), then forwards signals and terminal size and
// copies stdio until the process exits. Returns its exit status; when `start` fails, its error.
Result<std::uint32_t> attach_and_wait(const ProcessRef& process, const AttachOptions& options,
                                      const std::function<Status()>& start);

// Writes `pid` to `path` atomically, as ctr's --pid-file does.
Status write_pid_file(const std::string& path, std::uint32_t pid);

} // namespace gantry::cli
