// Kernel mounts for containerd's Mount records (see mount.hpp for why this is more than mount(2)).
//
// Paths taken:
// - "overlay": the new mount API (fsopen/fsconfig/fsmount/move_mount), one fsconfig call per
//   option and one `lowerdir+` per layer, so the number of layers is not limited by the page-size
//   limit on mount(2) data. A kernel without the API (ENOSYS) or without `lowerdir+` (EINVAL on
//   the first layer) gets mount(2) with the joined options instead.
// - "bind"/"rbind": mount(2) with MS_BIND[|MS_REC]; "ro" is then applied with mount_setattr()
//   (recursively for rbind, so no submount stays writable), or MS_REMOUNT on older kernels.
// - everything else: mount(2) with flag options as flags and the rest as data.
// Propagation options (private, rshared, ...) are a separate mount(2) call after the mount.
#include "core/mount/mount.hpp"

#include "core/fs/unique_fd.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gantry::mount {

namespace {

namespace stdfs = std::filesystem;

struct FlagOption {
    std::string_view name;
    bool clear;              // the option clears the flag instead of setting it
    unsigned long flag;      // mount(2) flag
    unsigned long long attr; // MOUNT_ATTR_* for the new API (0: none)
};

// containerd's table (mount/mount_linux.go) plus the propagation types.
constexpr std::array kFlagOptions{
    FlagOption{"async", true, MS_SYNCHRONOUS, 0},
    FlagOption{"atime", true, MS_NOATIME, 0},
    FlagOption{"bind", false, MS_BIND, 0},
    FlagOption{"defaults", false, 0, 0},
    FlagOption{"dev", true, MS_NODEV, 0},
    FlagOption{"diratime", true, MS_NODIRATIME, 0},
    FlagOption{"dirsync", false, MS_DIRSYNC, 0},
    FlagOption{"exec", true, MS_NOEXEC, 0},
    FlagOption{"mand", false, MS_MANDLOCK, 0},
    FlagOption{"noatime", false, MS_NOATIME, MOUNT_ATTR_NOATIME},
    FlagOption{"nodev", false, MS_NODEV, MOUNT_ATTR_NODEV},
    FlagOption{"nodiratime", false, MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
    FlagOption{"noexec", false, MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    FlagOption{"nomand", true, MS_MANDLOCK, 0},
    FlagOption{"norelatime", true, MS_RELATIME, 0},
    FlagOption{"nostrictatime", true, MS_STRICTATIME, 0},
    FlagOption{"nosuid", false, MS_NOSUID, MOUNT_ATTR_NOSUID},
    FlagOption{"rbind", false, MS_BIND | MS_REC, 0},
    FlagOption{"relatime", false, MS_RELATIME, MOUNT_ATTR_RELATIME},
    FlagOption{"remount", false, MS_REMOUNT, 0},
    FlagOption{"ro", false, MS_RDONLY, MOUNT_ATTR_RDONLY},
    FlagOption{"rw", true, MS_RDONLY, 0},
    FlagOption{"strictatime", false, MS_STRICTATIME, MOUNT_ATTR_STRICTATIME},
    FlagOption{"suid", true, MS_NOSUID, 0},
    FlagOption{"sync", false, MS_SYNCHRONOUS, 0},
};

struct PropagationOption {
    std::string_view name;
    unsigned long flags;
};
constexpr std::array kPropagationOptions{
    PropagationOption{"private", MS_PRIVATE},
    PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},
    PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},
    PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE},
    PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

const FlagOption* find_flag(std::string_view opt) {
    for (const auto& f : kFlagOptions)
        if (f.name == opt) return &f;
    return nullptr;
}

const PropagationOption* find_propagation(std::string_view opt) {
    for (const auto& p : kPropagationOptions)
        if (p.name == opt) return &p;
    return nullptr;
}

// Options split into mount(2) flags, propagation flags and filesystem data.
struct Parsed {
    unsigned long flags = 0;
    unsigned long propagation = 0;
    unsigned long long attrs = 0; // MOUNT_ATTR_* for fsmount()
    std::vector<std::string> data;
};

Parsed parse_options(const std::vector<std::string>& options) {
    Parsed p;
    for (const auto& o : options) {
        if (const auto* f = find_flag(o)) {
            if (f->clear) {
                p.flags &= ~f->flag;
                // "rw" after "ro" and friends: the attribute goes too.
                if (f->flag == MS_RDONLY)
                    p.attrs &= ~static_cast<unsigned long long>(MOUNT_ATTR_RDONLY);
                if (f->flag == MS_NOSUID)
                    p.attrs &= ~static_cast<unsigned long long>(MOUNT_ATTR_NOSUID);
                if (f->flag == MS_NODEV)
                    p.attrs &= ~static_cast<unsigned long long>(MOUNT_ATTR_NODEV);
                if (f->flag == MS_NOEXEC)
                    p.attrs &= ~static_cast<unsigned long long>(MOUNT_ATTR_NOEXEC);
            } else {
                p.flags |= f->flag;
                p.attrs |= f->attr;
            }
        } else if (const auto* prop = find_propagation(o)) {
            p.propagation |= prop->flags;
        } else {
            p.data.push_back(o);
        }
    }
    return p;
}

std::string join(const std::vector<std::string>& parts, char sep) {
    std::string out;
    for (const auto& s : parts) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    while (true) {
        auto pos = s.find(sep);
        out.emplace_back(s.substr(0, pos));
        if (pos == std::string_view::npos) break;
        s.remove_prefix(pos + 1);
    }
    return out;
}

std::string describe(const Mount& m, const stdfs::path& target) {
    return "mount " + m.type + " " + m.source + " on " + target.string();
}

Status apply_propagation(unsigned long propagation, const stdfs::path& target) {
    if (propagation == 0) return ok_status();
    if (::mount(nullptr, target.c_str(), nullptr, propagation, nullptr) != 0)
        return from_errno(errno, "set propagation of " + target.string());
    return ok_status();
}

Status mount_legacy(const Mount& m, const Parsed& p, const stdfs::path& target) {
    std::string data = join(p.data, ',');
    auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    if (data.size() >= page)
        return invalid_argument(describe(m, target) + ": options are " +
                                std::to_string(data.size()) +
                                " bytes, longer than mount(2) accepts (" + std::to_string(page) +
                                "); this kernel lacks the new mount API");
    const char* type = m.type.empty() ? nullptr : m.type.c_str();
    // A remount-only-flags pass needs no type or data.
    unsigned long flags = p.flags;
    if (::mount(m.source.c_str(), target.c_str(), type, flags,
                data.empty() ? nullptr : data.c_str()) != 0)
        return from_errno(errno, describe(m, target));
    return ok_status();
}

// Reads the messages the kernel queued on a filesystem context (e.g. "e overlay: ..."): far more
// useful than a bare EINVAL.
std::string fs_context_log(int fd) {
    std::string out;
    char buf[512];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        if (!out.empty()) out += "; ";
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

enum class NewApi { done, unsupported };

// The overlay via fsopen. Returns `unsupported` (nothing mounted) when the caller should fall
// back to mount(2).
Result<NewApi> mount_overlay_new_api(const Mount& m, const Parsed& p, const stdfs::path& target) {
    fs::UniqueFd fsfd(::fsopen(m.type.c_str(), FSOPEN_CLOEXEC));
    if (!fsfd) {
        if (errno == ENOSYS || errno == EINVAL || errno == EPERM) return NewApi::unsupported;
        return from_errno(errno, describe(m, target) + ": fsopen");
    }
    auto fail = [&](int err, std::string_view what) -> Error {
        std::string msg = describe(m, target) + ": " + std::string(what);
        auto log = fs_context_log(fsfd.get());
        if (!log.empty()) msg += " (" + log + ")";
        return from_errno(err, msg);
    };
    if (!m.source.empty() &&
        ::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "source", m.source.c_str(), 0) != 0)
        return fail(errno, "fsconfig source");
    bool first_layer = true;
    for (const auto& opt : p.data) {
        auto eq = opt.find('=');
        if (eq == std::string::npos) {
            if (::fsconfig(fsfd.get(), FSCONFIG_SET_FLAG, opt.c_str(), nullptr, 0) != 0)
                return fail(errno, "fsconfig " + opt);
            continue;
        }
        std::string key = opt.substr(0, eq);
        std::string value = opt.substr(eq + 1);
        if (key == "lowerdir") {
            for (const auto& layer : split(value, ':')) {
                if (::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "lowerdir+", layer.c_str(), 0) !=
                    0) {
                    // Kernels before 6.8 know no "lowerdir+": use mount(2) instead.
                    if (first_layer && errno == EINVAL) return NewApi::unsupported;
                    return fail(errno, "fsconfig lowerdir+ " + layer);
                }
                first_layer = false;
            }
            continue;
        }
        if (::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0) != 0)
            return fail(errno, "fsconfig " + key);
    }
    if (::fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return fail(errno, "create superblock");
    fs::UniqueFd mfd(::fsmount(fsfd.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(p.attrs)));
    if (!mfd) return fail(errno, "fsmount");
    if (::move_mount(mfd.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
        return from_errno(errno, describe(m, target) + ": move_mount");
    return NewApi::done;
}

Status mount_bind(const Mount& m, const Parsed& p, const stdfs::path& target) {
    unsigned long flags = p.flags | MS_BIND;
    bool ro = (flags & MS_RDONLY) != 0;
    // The bind itself ignores every flag but MS_REC; read-only and friends are a second step.
    if (::mount(m.source.c_str(), target.c_str(), nullptr, flags & (MS_BIND | MS_REC), nullptr) !=
        0)
        return from_errno(errno, describe(m, target));
    unsigned long long attrs = p.attrs;
    if (ro) attrs |= MOUNT_ATTR_RDONLY;
    if (attrs == 0) return ok_status();
    mount_attr attr{};
    attr.attr_set =
        attrs & (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (attr.attr_set == 0) return ok_status();
    unsigned setattr_flags = AT_SYMLINK_NOFOLLOW | ((flags & MS_REC) ? AT_RECURSIVE : 0);
    if (::mount_setattr(AT_FDCWD, target.c_str(), setattr_flags, &attr, sizeof attr) == 0)
        return ok_status();
    int err = errno;
    if (err == ENOSYS) {
        // Older kernel: remount the top mount only.
        unsigned long re =
            MS_REMOUNT | MS_BIND | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
        if (::mount(nullptr, target.c_str(), nullptr, re, nullptr) == 0) return ok_status();
        err = errno;
    }
    auto e = from_errno(err, describe(m, target) + ": make read-only");
    ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    return e;
}

// Unmounts once; returns whether something was unmounted.
Result<bool> unmount_once(const stdfs::path& target) {
    for (int attempt = 0;; ++attempt) {
        if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return true;
        int err = errno;
        if (err == EINVAL || err == ENOENT) return false;
        // Busy mounts often free up a moment later (a process leaving, an fd closing).
        if (err == EBUSY && attempt < 50) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        return from_errno(err, "unmount " + target.string());
    }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
    auto is_oct = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && s.size() - i >= 4 && is_oct(s[i + 1]) && is_oct(s[i + 2]) &&
            is_oct(s[i + 3])) {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += s[i];
    }
    return out;
}

bool is_under(const std::string& path, const std::string& prefix) {
    if (prefix == "/") return true;
    if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
    return path.size() == prefix.size() || path[prefix.size()] == '/';
}

} // namespace

Status mount(const Mount& m, const stdfs::path& target) {
    Parsed p = parse_options(m.options);
    Status st = ok_status();
    if (m.type == "bind" || m.type == "rbind" || (p.flags & MS_BIND) != 0) {
        if (m.type == "rbind") p.flags |= MS_BIND | MS_REC;
        st = mount_bind(m, p, target);
    } else if (m.type == "overlay" && (p.flags & MS_REMOUNT) == 0) {
        GANTRY_ASSIGN_OR_RETURN(auto how, mount_overlay_new_api(m, p, target));
        if (how == NewApi::unsupported) st = mount_legacy(m, p, target);
    } else {
        st = mount_legacy(m, p, target);
    }
    if (!st.ok()) return st;
    if (auto prop = apply_propagation(p.propagation, target); !prop.ok()) {
        (void)unmount(target);
        return prop;
    }
    return ok_status();
}

Status mount_all(std::span<const Mount> mounts, const stdfs::path& target) {
    std::vector<stdfs::path> done;
    for (const auto& m : mounts) {
        stdfs::path dest =
            m.target.empty() ? target : target / stdfs::path(m.target).relative_path();
        if (auto st = mount(m, dest); !st.ok()) {
            // Leave nothing half-mounted behind: undo in reverse, sub-path mounts first.
            for (auto it = done.rbegin(); it != done.rend(); ++it)
                (void)unmount(*it);
            return st;
        }
        done.push_back(std::move(dest));
    }
    return ok_status();
}

Status unmount(const stdfs::path& target) {
    auto r = unmount_once(target);
    if (!r.ok()) return std::move(r).error();
    return ok_status();
}

Status unmount_all(const stdfs::path& target) {
    while (true) {
        GANTRY_ASSIGN_OR_RETURN(bool did, unmount_once(target));
        if (!did) return ok_status();
    }
}

Result<std::vector<stdfs::path>> mount_points_under(const stdfs::path& prefix) {
    std::ifstream in("/proc/self/mountinfo");
    if (!in) return from_errno(errno, "open /proc/self/mountinfo");
    std::string want = prefix.lexically_normal().string();
    while (want.size() > 1 && want.back() == '/')
        want.pop_back();
    std::vector<std::string> found;
    std::string line;
    while (std::getline(in, line)) {
        // id parent major:minor root mount-point options ...
        std::string_view rest(line);
        std::string_view field;
        for (int i = 0; i < 5; ++i) {
            auto sp = rest.find(' ');
            field = rest.substr(0, sp);
            if (sp == std::string_view::npos) {
                rest = {};
                if (i < 4) field = {};
                break;
            }
            rest.remove_prefix(sp + 1);
        }
        if (field.empty()) continue;
        std::string mp = unescape_octal(field);
        if (is_under(mp, want)) found.push_back(std::move(mp));
    }
    // Later lines are mounted later (a child after its parent): reversed, with deeper paths
    // first, every mount comes before what it sits on.
    std::reverse(found.begin(), found.end());
    std::stable_sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
        return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
    });
    std::vector<stdfs::path> out;
    for (auto& f : found)
        if (std::find(out.begin(), out.end(), stdfs::path(f)) == out.end())
            out.emplace_back(std::move(f));
    return out;
}

std::string option_value(const Mount& m, std::string_view key) {
    for (const auto& o : m.options) {
        if (o.size() > key.size() && o.compare(0, key.size(), key) == 0 && o[key.size()] == '=')
            return o.substr(key.size() + 1);
    }
    return {};
}

std::vector<std::string> lowerdirs(const Mount& m) {
    auto v = option_value(m, "lowerdir");
    if (v.empty()) return {};
    return split(v, ':');
}

bool is_read_only(const Mount& m) {
    bool ro = false;
    for (const auto& o : m.options) {
        if (o == "ro")
            ro = true;
        else if (o == "rw")
            ro = false;
    }
    // An overlay without an upper layer cannot be written either.
    if (m.type == "overlay" && option_value(m, "upperdir").empty()) return true;
    return ro;
}

// ---- TempMount ----

Result<TempMount> TempMount::create(std::span<const Mount> mounts, const stdfs::path& parent) {
    std::string pattern = (parent / "mount-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
        return from_errno(errno, "create temporary mount point under " + parent.string());
    TempMount tm{stdfs::path(pattern)};
    if (auto st = mount_all(mounts, tm.path_); !st.ok()) {
        ::rmdir(tm.path_.c_str());
        tm.path_.clear();
        return std::move(st).error();
    }
    return tm;
}

TempMount::TempMount(TempMount&& o) noexcept : path_(std::exchange(o.path_, {})) {}

TempMount& TempMount::operator=(TempMount&& o) noexcept {
    if (this != &o) {
        (void)release();
        path_ = std::exchange(o.path_, {});
    }
    return *this;
}

TempMount::~TempMount() {
    if (path_.empty()) return;
    if (!release().ok() && !path_.empty()) {
        // Last resort: detach so the directory is at least no longer a mount point for new users.
        while (::umount2(path_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
        }
        ::rmdir(path_.c_str());
        path_.clear();
    }
}

Status TempMount::release() {
    if (path_.empty()) return ok_status();
    GANTRY_TRY(unmount_all(path_));
    if (::rmdir(path_.c_str()) != 0 && errno != ENOENT)
        return from_errno(errno, "remove temporary mount point " + path_.string());
    path_.clear();
    return ok_status();
}

} // namespace gantry::mount
