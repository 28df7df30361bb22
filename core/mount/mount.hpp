// Mounts as containerd describes them (containerd.types.Mount: type, source, target, options)
// and the one place that turns them into kernel mounts.
//
// Why this is more than mount(2):
// - overlay with many layers: a `lowerdir=` option longer than a page is refused by mount(2)
//   (containerd hits this around 30-60 layers). mount() here uses the new mount API
//   (fsopen/fsconfig, one `lowerdir+` per layer, kernel >= 6.8) whenever it is available, and
//   falls back to mount(2) with the joined option on older kernels.
// - bind mounts with "ro" need a second MS_REMOUNT pass; "rbind" is MS_BIND|MS_REC.
// - unmount() retries EBUSY briefly and never follows symlinks (UMOUNT_NOFOLLOW).
#pragma once

#include "core/errors.hpp"

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::mount {

struct Mount {
    std::string type;   // "bind", "overlay", "btrfs", "tmpfs", ...
    std::string source; // a path, or "overlay" / "none"
    std::string target; // sub-path under the mount point; empty for the root (containerd 1.7+)
    std::vector<std::string> options;

    bool operator==(const Mount&) const = default;
};

// Mounts `m` on the directory `target`. Flag options (ro, rw, bind, rbind, nosuid, nodev,
// noexec, ...) become mount flags; the rest is passed as filesystem data.
Status mount(const Mount& m, const std::filesystem::path& target);
// Mounts each in order on `target` (later mounts stack on earlier ones).
Status mount_all(std::span<const Mount> mounts, const std::filesystem::path& target);

// Unmounts `target` once. NotFound-free: EINVAL (not a mount point) is success.
Status unmount(const std::filesystem::path& target);
// Unmounts until nothing is mounted on `target` (stacked mounts).
Status unmount_all(const std::filesystem::path& target);

// Every mount point at or below `prefix`, deepest first, read from /proc/self/mountinfo.
Result<std::vector<std::filesystem::path>> mount_points_under(const std::filesystem::path& prefix);

// For "overlay" mounts: the option value of `key` ("upperdir", "workdir"), empty when absent;
// lowerdirs() splits `lowerdir=` (nearest parent first). Used by the differ to write a layer
// straight into an upper dir and to compare an upper with its lowers.
std::string option_value(const Mount& m, std::string_view key);
std::vector<std::string> lowerdirs(const Mount& m);
bool is_read_only(const Mount& m);

// A temporary mount point: mount_all() on a fresh directory under `parent`; the destructor
// unmounts everything (lazily as a last resort) and removes the directory. Move-only.
class TempMount {
public:
    static Result<TempMount> create(std::span<const Mount> mounts,
                                    const std::filesystem::path& parent);
    TempMount(TempMount&& o) noexcept;
    TempMount& operator=(TempMount&& o) noexcept;
    TempMount(const TempMount&) = delete;
    TempMount& operator=(const TempMount&) = delete;
    ~TempMount();

    const std::filesystem::path& path() const noexcept { return path_; }
    // Unmounts and removes now, reporting failure (the destructor cannot).
    Status release();

private:
    explicit TempMount(std::filesystem::path p) : path_(std::move(p)) {}
    std::filesystem::path path_;
};

} // namespace gantry::mount
