// Driving a runc-compatible CLI (runc, crun, runsc): options, arguments and error messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gantry::shim {

// containerd.runc.v1.Options, plus extra global arguments for the runtime binary. BinaryName may
// carry those arguments after the path, separated by spaces ("/usr/bin/runsc --network=none"),
// and a runtimeoptions.v1.Options config_path file may set them as RuntimeArgs (../README.md).
struct RuntimeOptions {
    std::string binaryName; // as configured; empty means "runc"
    std::string root;       // runc --root base; the namespace is appended
    std::string shimCgroup;
    bool noPivotRoot = false;
    bool noNewKeyring = false;
    bool systemdCgroup = false;
    std::string criuWorkPath; // restore's --work-path (containerd.runc.v1.Options.criu_work_path)
    std::vector<std::string> runtimeArgs;

    // The binary and the global arguments, split from binaryName and runtimeArgs.
    std::vector<std::string> command() const;
    // options.json: snake_case keys, empty fields omitted; runtime args folded into binary_name.
    std::string toJson() const;
    static RuntimeOptions fromJson(std::string_view json);
};

// Decodes the shim options Any (containerd.runc.v1.Options or runtimeoptions.v1.Options with a
// config_path). An empty Any gives defaults. Returns an error message, empty on success.
std::string decodeOptions(std::string_view anyBytes, RuntimeOptions& out);
// Parses the TOML subset of a runtime config file: BinaryName, Root, SystemdCgroup, NoPivotRoot,
// NoNewKeyring (the runc option names CRI uses) and RuntimeArgs = ["..."].
std::string parseConfigFile(std::string_view text, RuntimeOptions& out);

class Runtime {
public:
    Runtime(RuntimeOptions opts, const std::string& ns, std::string bundle);

    struct Result {
        bool ok = false;
        std::string error;  // "<binary> <verb> failed: <message>"
        std::string output; // captured stdout+stderr when stdio was not given
    };
    // Stdio: three fds handed to the runtime (and so to the container), or nullptr to capture.
    Result create(const std::string& id, const int stdio[3], const std::string& consoleSocket);
    Result start(const std::string& id);
    Result exec(const std::string& id, const std::string& processJson, const std::string& pidFile,
                const int stdio[3], const std::string& consoleSocket);
    Result kill(const std::string& id, int signal, bool all);
    Result remove(const std::string& id, bool force);
    Result pause(const std::string& id);
    Result resume(const std::string& id);
    Result update(const std::string& id, const std::string& resourcesJson);
    Result ps(const std::string& id);
    // checkpoint.cpp: the arguments come from checkpointArgs() / restoreArgs().
    Result checkpoint(std::vector<std::string> args);
    Result restore(std::vector<std::string> args, const int stdio[3]);

    const std::string& binary() const { return command_.front(); }
    const RuntimeOptions& options() const { return opts_; }

private:
    Result run(std::string_view verb, std::vector<std::string> args, const int stdio[3]);

    RuntimeOptions opts_;
    std::vector<std::string> command_;
    std::string root_;
    std::string bundle_;
    std::string log_;
};

// Exit status as containerd reports it: the code, or 128 + the signal.
int exitStatus(int waitStatus);

} // namespace gantry::shim
