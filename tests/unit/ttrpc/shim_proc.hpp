// Running the real shim binaries from tests: fork/exec with a working directory, extra
// environment and captured output, killed after a timeout.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace gantry::ttrpc::test {

struct ProcOutput {
    int exit_code = -1; // -1: killed by a signal, timed out or not started
    std::string out;
    std::string err; // empty when merged into out
};

ProcOutput run_proc(const std::vector<std::string>& argv, const std::string& cwd,
                    const std::map<std::string, std::string>& env, bool merge_stderr,
                    std::chrono::seconds timeout = std::chrono::seconds(30));

} // namespace gantry::ttrpc::test
