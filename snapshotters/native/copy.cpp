#include "snapshotters/native/copy.hpp"

#include "core/fs/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <map>
#include <string>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace gantry::snapshots::native {

namespace {

namespace stdfs = std::filesystem;

Status copy_data(const stdfs::path& src, const stdfs::path& dst, const struct stat& st) {
    fs::UniqueFd in(::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in) return from_errno(errno, "open " + src.string());
    fs::UniqueFd out(
        ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return from_errno(errno, "create " + dst.string());
    if (st.st_size == 0) return ok_status();
    // Shares the extents: instant and no extra space on btrfs/xfs.
    if (::ioctl(out.get(), FICLONE, in.get()) == 0) return ok_status();
    off_t left = st.st_size;
    bool use_cfr = true;
    std::vector<char> buf;
    while (left > 0) {
        if (use_cfr) {
            ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr,
                                          static_cast<std::size_t>(left), 0);
            if (n > 0) {
                left -= n;
                continue;
            }
            if (n == 0) break; // the file shrank under us
            if (errno == EINTR) continue;
            if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                return from_errno(errno, "copy " + src.string());
            use_cfr = false;
            buf.resize(1 << 20);
        }
        ssize_t n = ::read(in.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return from_errno(errno, "read " + src.string());
        }
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(out.get(), buf.data() + done, static_cast<std::size_t>(n - done));
            if (w < 0) {
                if (errno == EINTR) continue;
                return from_errno(errno, "write " + dst.string());
            }
            done += w;
        }
        left -= n;
    }
    return ok_status();
}

Status copy_xattrs(const stdfs::path& src, const stdfs::path& dst) {
    ssize_t len = ::llistxattr(src.c_str(), nullptr, 0);
    if (len < 0) {
        if (errno == ENOTSUP) return ok_status();
        return from_errno(errno, "list xattrs of " + src.string());
    }
    if (len == 0) return ok_status();
    std::vector<char> names(static_cast<std::size_t>(len));
    len = ::llistxattr(src.c_str(), names.data(), names.size());
    if (len < 0) return from_errno(errno, "list xattrs of " + src.string());
    std::vector<char> value;
    for (ssize_t i = 0; i < len;) {
        const char* name = names.data() + i;
        i += static_cast<ssize_t>(std::strlen(name)) + 1;
        ssize_t vlen = ::lgetxattr(src.c_str(), name, nullptr, 0);
        if (vlen < 0) {
            if (errno == ENODATA) continue;
            return from_errno(errno, "read xattr " + std::string(name) + " of " + src.string());
        }
        value.resize(static_cast<std::size_t>(vlen));
        vlen = ::lgetxattr(src.c_str(), name, value.data(), value.size());
        if (vlen < 0) return from_errno(errno, "read xattr " + std::string(name));
        if (::lsetxattr(dst.c_str(), name, value.data(), static_cast<std::size_t>(vlen), 0) != 0) {
            // As containerd: an xattr the destination cannot hold is not worth failing the copy
            // (e.g. security.* without the LSM, user.* on a symlink).
            if (errno == ENOTSUP || errno == EPERM) continue;
            return from_errno(errno, "set xattr " + std::string(name) + " on " + dst.string());
        }
    }
    return ok_status();
}

// Owner, then mode (chown clears set-id bits), then xattrs (chown clears security.capability),
// then times (anything above may touch ctime/mtime of a directory).
Status copy_metadata(const stdfs::path& src, const stdfs::path& dst, const struct stat& st) {
    if (::lchown(dst.c_str(), st.st_uid, st.st_gid) != 0)
        return from_errno(errno, "chown " + dst.string());
    if (!S_ISLNK(st.st_mode) && ::chmod(dst.c_str(), st.st_mode & 07777) != 0)
        return from_errno(errno, "chmod " + dst.string());
    GANTRY_TRY(copy_xattrs(src, dst));
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        return from_errno(errno, "set times of " + dst.string());
    return ok_status();
}

struct Copier {
    // First copy of each multiply-linked inode, to hard-link the others to.
    std::map<std::pair<dev_t, ino_t>, stdfs::path> links;

    Status copy_dir(const stdfs::path& src, const stdfs::path& dst) {
        std::vector<std::string> names;
        {
            DIR* d = ::opendir(src.c_str());
            if (d == nullptr) return from_errno(errno, "open directory " + src.string());
            while (dirent* e = ::readdir(d)) {
                if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
                    names.emplace_back(e->d_name);
            }
            ::closedir(d);
        }
        for (const auto& name : names)
            GANTRY_TRY(copy_entry(src / name, dst / name));
        return ok_status();
    }

    Status copy_entry(const stdfs::path& src, const stdfs::path& dst) {
        struct stat st {};
        if (::lstat(src.c_str(), &st) != 0) return from_errno(errno, "stat " + src.string());
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
            auto [it, first] = links.emplace(std::make_pair(st.st_dev, st.st_ino), dst);
            if (!first) {
                if (::link(it->second.c_str(), dst.c_str()) != 0)
                    return from_errno(errno, "link " + dst.string());
                return ok_status();
            }
        }
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR:
            if (::mkdir(dst.c_str(), 0700) != 0) return from_errno(errno, "mkdir " + dst.string());
            GANTRY_TRY(copy_dir(src, dst));
            break;
        case S_IFREG:
            GANTRY_TRY(copy_data(src, dst, st));
            break;
        case S_IFLNK: {
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
            if (n < 0) return from_errno(errno, "readlink " + src.string());
            target.resize(static_cast<std::size_t>(n));
            if (::symlink(target.c_str(), dst.c_str()) != 0)
                return from_errno(errno, "symlink " + dst.string());
            break;
        }
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
        case S_IFSOCK:
            if (::mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0)
                return from_errno(errno, "mknod " + dst.string());
            break;
        default:
            return invalid_argument("unsupported file type at " + src.string());
        }
        return copy_metadata(src, dst, st);
    }
};

} // namespace

Status copy_tree(const stdfs::path& src, const stdfs::path& dst) {
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0) return from_errno(errno, "stat " + src.string());
    if (!S_ISDIR(st.st_mode)) return invalid_argument(src.string() + " is not a directory");
    Copier c;
    GANTRY_TRY(c.copy_dir(src, dst));
    return copy_metadata(src, dst, st);
}

} // namespace gantry::snapshots::native
