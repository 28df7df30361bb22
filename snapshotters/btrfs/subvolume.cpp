#include "snapshotters/btrfs/subvolume.hpp"

#include "core/fs/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <system_error>
#include <vector>

namespace gantry::snapshots::btrfs {

namespace fs = std::filesystem;

namespace {

Result<gantry::fs::UniqueFd> open_dir(const fs::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return from_errno(errno, "open " + p.string());
    return gantry::fs::UniqueFd(fd);
}

// The parent directory (opened) and the last component, checked to fit the ioctl's name field.
struct Parent {
    gantry::fs::UniqueFd fd;
    std::string name;
};

Result<Parent> open_parent(const fs::path& p, std::size_t max_name) {
    fs::path name = p.filename();
    if (name.empty() || name == "." || name == "..")
        return invalid_argument("subvolume path " + p.string() + " has no final name");
    if (name.native().size() > max_name)
        return invalid_argument("subvolume name " + name.string() + " is too long");
    fs::path dir = p.parent_path();
    if (dir.empty()) dir = ".";
    GANTRY_ASSIGN_OR_RETURN(auto fd, open_dir(dir));
    return Parent{std::move(fd), name.native()};
}

Error ioctl_error(int err, std::string_view what, const fs::path& p) {
    // ENOTTY: the directory is not on btrfs, which callers should have ruled out.
    if (err == ENOTTY)
        return invalid_argument(std::string(what) + " " + p.string() + ": not on btrfs");
    return from_errno(err, std::string(what) + " " + p.string());
}

// One subvolume; the value is the ioctl's errno (0: deleted), so the caller can tell
// ENOTEMPTY (nested subvolumes) from a real failure.
Result<int> destroy_one(const fs::path& p) {
    GANTRY_ASSIGN_OR_RETURN(auto parent, open_parent(p, BTRFS_PATH_NAME_MAX));
    btrfs_ioctl_vol_args args{};
    std::memcpy(args.name, parent.name.data(), parent.name.size());
    if (::ioctl(parent.fd.get(), BTRFS_IOC_SNAP_DESTROY, &args) < 0) return errno;
    return 0;
}

Result<std::uint64_t> mount_id(const fs::path& p) {
    struct statx stx {};
    if (::statx(AT_FDCWD, p.c_str(), AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
        return from_errno(errno, "statx " + p.string());
    return static_cast<std::uint64_t>(stx.stx_mnt_id);
}

// Subvolume roots strictly inside `p` that are not inside another nested one, found without
// following symlinks. A nested subvolume is its own tree, so the walk stops at each. A mount
// point inside is an error: deleting must never reach through a mount into other data.
Result<std::vector<fs::path>> nested_subvolumes(const fs::path& p) {
    GANTRY_ASSIGN_OR_RETURN(auto top_mnt, mount_id(p));
    std::vector<fs::path> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(p, fs::directory_options::none, ec);
    if (ec) return from_errno(ec.value(), "walk " + p.string());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) return from_errno(ec.value(), "walk " + p.string());
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) continue;
        if (st.st_ino != BTRFS_FIRST_FREE_OBJECTID) continue;
        GANTRY_ASSIGN_OR_RETURN(auto mnt, mount_id(it->path()));
        if (mnt != top_mnt)
            return failed_precondition("cannot delete subvolume " + p.string() + ": " +
                                       it->path().string() + " is a mount point");
        out.push_back(it->path());
        it.disable_recursion_pending();
    }
    if (ec) return from_errno(ec.value(), "walk " + p.string());
    return out;
}

} // namespace

Status create_subvolume(const fs::path& path) {
    GANTRY_ASSIGN_OR_RETURN(auto parent, open_parent(path, BTRFS_PATH_NAME_MAX));
    btrfs_ioctl_vol_args args{};
    std::memcpy(args.name, parent.name.data(), parent.name.size());
    if (::ioctl(parent.fd.get(), BTRFS_IOC_SUBVOL_CREATE, &args) < 0)
        return ioctl_error(errno, "create subvolume", path);
    return ok_status();
}

Status snapshot_subvolume(const fs::path& source, const fs::path& dest, bool read_only) {
    GANTRY_ASSIGN_OR_RETURN(auto src, open_dir(source));
    GANTRY_ASSIGN_OR_RETURN(auto parent, open_parent(dest, BTRFS_SUBVOL_NAME_MAX));
    btrfs_ioctl_vol_args_v2 args{};
    args.fd = src.get();
    args.flags = read_only ? BTRFS_SUBVOL_RDONLY : 0;
    std::memcpy(args.name, parent.name.data(), parent.name.size());
    if (::ioctl(parent.fd.get(), BTRFS_IOC_SNAP_CREATE_V2, &args) < 0)
        return ioctl_error(errno, "snapshot " + source.string() + " at", dest);
    return ok_status();
}

Status delete_subvolume(const fs::path& path) {
    GANTRY_ASSIGN_OR_RETURN(bool subvol, is_subvolume(path));
    if (!subvol) return invalid_argument(path.string() + " is not a btrfs subvolume");
    GANTRY_ASSIGN_OR_RETURN(int err, destroy_one(path));
    if (err == 0) return ok_status();
    if (err != ENOTEMPTY) return ioctl_error(err, "delete subvolume", path);
    // Children first (only on this slow path: most subvolumes have none, and walking a whole
    // rootfs for nothing would make every Remove cost O(files)).
    GANTRY_ASSIGN_OR_RETURN(auto children, nested_subvolumes(path));
    for (const auto& c : children)
        GANTRY_TRY(delete_subvolume(c));
    GANTRY_ASSIGN_OR_RETURN(err, destroy_one(path));
    if (err != 0) return ioctl_error(err, "delete subvolume", path);
    return ok_status();
}

Result<std::uint64_t> subvolume_id(const fs::path& path) {
    GANTRY_ASSIGN_OR_RETURN(auto fd, open_dir(path));
    // treeid 0 with the first free object id asks "which tree holds this directory".
    btrfs_ioctl_ino_lookup_args args{};
    args.treeid = 0;
    args.objectid = BTRFS_FIRST_FREE_OBJECTID;
    if (::ioctl(fd.get(), BTRFS_IOC_INO_LOOKUP, &args) < 0)
        return ioctl_error(errno, "look up subvolume id of", path);
    return static_cast<std::uint64_t>(args.treeid);
}

Result<bool> is_subvolume(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0) return from_errno(errno, "stat " + path.string());
    return S_ISDIR(st.st_mode) && st.st_ino == BTRFS_FIRST_FREE_OBJECTID;
}

Result<bool> is_read_only(const fs::path& path) {
    GANTRY_ASSIGN_OR_RETURN(auto fd, open_dir(path));
    std::uint64_t flags = 0;
    if (::ioctl(fd.get(), BTRFS_IOC_SUBVOL_GETFLAGS, &flags) < 0)
        return ioctl_error(errno, "read flags of subvolume", path);
    return (flags & BTRFS_SUBVOL_RDONLY) != 0;
}

} // namespace gantry::snapshots::btrfs
