// Mounting Create's rootfs mounts onto <bundle>/rootfs, and unmounting them again.
#pragma once

#include <string>
#include <vector>

namespace gantry::shim {

struct MountSpec {
    std::string type;
    std::string source;
    std::vector<std::string> options;
};

// Mounts each in order onto `target`; returns an error message, empty on success. On failure the
// mounts already made are undone.
std::string mountAll(const std::vector<MountSpec>& mounts, const std::string& target);
// Unmounts everything stacked on `target` (lazily, like containerd's UnmountAll with MNT_DETACH).
void unmountAll(const std::string& target);

} // namespace gantry::shim
