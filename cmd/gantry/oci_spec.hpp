// The default OCI runtime spec `gantry run` gives a container, built from the image config the
// way containerd's client builds it (oci.populateDefaultUnixSpec + WithImageConfig): the
// namespaces, mounts, capabilities, masked and read-only paths and rlimits containerd uses, plus
// no_new_privileges and a default seccomp allowlist resolved against libseccomp's syscall table
// for this architecture (names the kernel's table lacks are left out rather than failing runc).
#pragma once

#include "cmd/gantry/image_user.hpp"
#include "core/errors.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gantry::cli {

struct SpecInput {
    std::string ns;
    std::string id;
    nlohmann::json image_config;      // the "config" object of the image config (may be null)
    std::vector<std::string> command; // overrides the image's Cmd (keeps its Entrypoint)
    std::vector<std::string> env;     // K=V, added after the image's
    bool terminal = false;
    bool net_host = false;
    bool seccomp = true;
    // "type=bind,src=/a,dst=/b,options=rbind:ro", as ctr's --mount.
    std::vector<std::string> mounts;
    // process.user, resolved by the caller from the image's User (image_user.hpp): the image
    // root is needed for that, and it exists only once the snapshot is prepared.
    ProcessUser user;
};

// InvalidArgument for an image without a command when none is given, or a malformed --mount.
Result<nlohmann::json> build_spec(const SpecInput& in);

// The OCI process.user object: uid, gid and, when there are any, additionalGids.
nlohmann::json user_json(const ProcessUser& user);

// The names of the default seccomp allowlist that libseccomp knows on this architecture.
std::vector<std::string> default_seccomp_syscalls();

} // namespace gantry::cli
