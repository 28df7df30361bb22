// Running the shim binary's one-shot commands (protocol-facts §10.3, §10.5): `start`, which
// prints the address of the long-running shim it spawned, and `delete`, which cleans up after a
// shim that is gone and prints a DeleteResponse.
#pragma once

#include "core/errors.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace gantry::runtime {

struct ShimInvocation {
    std::string binary;
    std::vector<std::string> args;      // after argv[0]
    std::string cwd;                    // the bundle
    std::vector<std::string> extra_env; // "K=V", added to gantryd's environment
    std::string stdin_bytes;
    std::chrono::milliseconds timeout{10000};
};

struct ShimOutput {
    int exit_code = -1; // -1: killed (timeout) or signalled
    std::string out;    // stdout (and stderr when combined)
    std::string err;
};

// Runs the command in its own process group. `combine`: stderr goes to the same pipe as stdout
// (containerd reads `start`'s combined output as the address). Kills it at the timeout.
Result<ShimOutput> run_shim_command(const ShimInvocation& inv, bool combine);

} // namespace gantry::runtime
