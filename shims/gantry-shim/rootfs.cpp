#include "shims/gantry-shim/rootfs.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>
#include <sys/mount.h>

namespace gantry::shim {

namespace {

struct FlagOption {
    std::string_view name;
    bool clear;
    unsigned long flag;
};

// The mount(8) option names containerd's mount package understands as flags.
constexpr FlagOption kFlags[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

std::string mountOne(const MountSpec& m, const std::string& target) {
    unsigned long flags = 0;
    std::string data;
    for (const auto& o : m.options) {
        bool matched = false;
        for (const auto& f : kFlags) {
            if (o != f.name) continue;
            flags = f.clear ? (flags & ~f.flag) : (flags | f.flag);
            matched = true;
            break;
        }
        if (matched) continue;
        if (!data.empty()) data += ',';
        data += o;
    }
    const char* type = m.type.empty() ? nullptr : m.type.c_str();
    if (::mount(m.source.c_str(), target.c_str(), type, flags,
                data.empty() ? nullptr : data.c_str()) != 0) {
        return "failed to mount rootfs component {" + m.type + " " + m.source + "} on " + target +
               ": " + strerror(errno);
    }
    // A read-only bind needs a second, remounting call.
    if ((flags & MS_BIND) && (flags & MS_RDONLY)) {
        if (::mount("", target.c_str(), nullptr, flags | MS_REMOUNT, nullptr) != 0)
            return "failed to remount " + target + " read-only: " + strerror(errno);
    }
    return {};
}

} // namespace

std::string mountAll(const std::vector<MountSpec>& mounts, const std::string& target) {
    for (const auto& m : mounts) {
        std::string err = mountOne(m, target);
        if (!err.empty()) {
            unmountAll(target);
            return err;
        }
    }
    return {};
}

void unmountAll(const std::string& target) {
    for (int i = 0; i < 64; ++i) {
        if (::umount2(target.c_str(), MNT_DETACH) != 0) return; // EINVAL: nothing mounted there
    }
}

} // namespace gantry::shim
