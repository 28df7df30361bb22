// Process stdio. Where the kernel allows, the shim hands the client's FIFOs straight to the
// runtime so the container writes into them with no copy; only stdin (whose EOF must follow
// CloseIO) and a terminal's master are copied, by Pumps on the loop.
#pragma once

#include "shims/gantry-shim/fd.hpp"
#include "shims/gantry-shim/loop.hpp"

#include <functional>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace gantry::shim {

// Copies src to dst without blocking the loop; when src ends (EOF, hang-up, EIO) both fds are
// closed and onDone runs.
class Pump {
public:
    Pump(Loop& loop, Fd src, Fd dst);
    ~Pump();
    Pump(const Pump&) = delete;
    Pump& operator=(const Pump&) = delete;
    bool done() const { return !src_.valid(); }
    void stop();
    // CloseIO: what the client wrote before asking is still copied (whatever src holds now),
    // then both fds close.
    void finish();

private:
    void onSrc(uint32_t events);
    void onDst(uint32_t events);
    bool flush(); // false on a hard write error
    void drainThenStop();
    void waitForDst();

    Loop& loop_;
    Fd src_;
    Fd dst_;
    std::string buf_;
    bool finishing_ = false;
};

// What a process needs for its stdio.
struct ProcessIo {
    int runtimeStdio[3] = {-1, -1, -1}; // handed to the runtime; -1 means /dev/null
    std::vector<Fd> passed;             // owners of runtimeStdio, closed once the runtime ran
    Fd stdinFifo;                       // copied by a pump into the pipe or the terminal
    Fd stdinPipe;                       // write end of the container's stdin pipe
    Fd stdoutFifo;                      // terminal only: the master is copied into it
    Fd consoleListener;                 // terminal only: runc sends the master here
    std::string consolePath;

    ProcessIo() = default;
    ProcessIo(const ProcessIo&) = delete;
    ProcessIo& operator=(const ProcessIo&) = delete;
    ~ProcessIo() {
        if (consoleListener) ::unlink(consolePath.c_str());
    }
};

// Opens the client's stdio paths (FIFOs, or file:// paths) for a new process. Returns an error
// message, empty on success.
std::string openProcessIo(const std::string& stdinPath, const std::string& stdoutPath,
                          const std::string& stderrPath, bool terminal, ProcessIo& io);
// Receives the terminal master that the runtime sent on the console socket.
Fd receiveConsole(ProcessIo& io, std::string& err);

} // namespace gantry::shim
