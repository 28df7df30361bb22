// Checkpoint and restore through the runtime's CLI (`checkpoint` / `restore`, which run CRIU):
// the options containerd sends, the runtime arguments they become, and CRIU's log read back for
// an error message a person can act on.
//
// How the shim uses this (as containerd-shim-runc-v2 does, protocol-facts §10.8):
// - Checkpoint of a running or paused init: `<runtime> checkpoint --image-path P --work-path W
//   [flags] ID`; the container keeps running unless the options ask for `exit`.
// - Create with a checkpoint path only records it (the task is `created`, with no pid, and
//   refuses Exec); Start then runs `<runtime> restore --detach ... ID` instead of `start`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gantry::shim {

// containerd.runc.v1.CheckpointOptions (protocol-facts §2.15).
struct CheckpointOptions {
    bool exit = false; // stop the container after the checkpoint (no --leave-running)
    bool openTcp = false;
    bool externalUnixSockets = false;
    bool terminal = false;
    bool fileLocks = false;
    std::vector<std::string> emptyNamespaces;
    std::string cgroupsMode; // soft, full, strict, ignore
    std::string imagePath;   // informational here: the request's path wins
    std::string workPath;    // CRIU's work dir and logs; a private one is used when empty
};

// Decodes the Any of a Checkpoint request; an empty Any gives defaults. Returns an error message,
// empty on success.
std::string decodeCheckpointOptions(std::string_view anyBytes, CheckpointOptions& out);

// The runtime arguments after the global ones: `checkpoint ... <id>`.
std::vector<std::string> checkpointArgs(const CheckpointOptions& o, const std::string& imagePath,
                                        const std::string& workPath, const std::string& id);

struct RestoreParams {
    std::string imagePath;
    std::string workPath;
    std::string bundle;
    std::string pidFile;
    std::string consoleSocket; // empty without a terminal
    bool noPivot = false;
};
// `restore --detach ... <id>`.
std::vector<std::string> restoreArgs(const RestoreParams& p, const std::string& id);

// The first `Error (...)` lines of a CRIU log (at most `maxLines`, joined with "; "), with the
// source location dropped: "vdso: Unexpected rt vDSO area bounds". Empty when there are none or
// the log cannot be read.
std::string criuErrors(const std::string& logPath, size_t maxLines = 2);
std::string criuErrorsFromText(std::string_view log, size_t maxLines = 2);

} // namespace gantry::shim
