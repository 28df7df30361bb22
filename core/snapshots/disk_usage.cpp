#include "core/snapshots/disk_usage.hpp"

#include "core/fs/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <utility>

namespace gantry::snapshots {

namespace {

struct Walker {
    std::set<std::pair<dev_t, ino_t>> seen;
    Usage usage;

    void count(const struct stat& st) {
        if (seen.emplace(st.st_dev, st.st_ino).second) {
            usage.size += static_cast<std::int64_t>(st.st_blocks) * 512;
            ++usage.inodes;
        }
    }

    // `dirfd` is an open directory; walks its entries with *at() calls so that nothing is
    // resolved through a symlink.
    Status walk(int dirfd, const std::filesystem::path& where) {
        fs::UniqueFd own(::dup(dirfd));
        if (!own) return from_errno(errno, "dup " + where.string());
        DIR* d = ::fdopendir(own.get());
        if (d == nullptr) return from_errno(errno, "open directory " + where.string());
        own.release();
        struct Closer {
            DIR* d;
            ~Closer() { ::closedir(d); }
        } closer{d};
        while (true) {
            errno = 0;
            dirent* e = ::readdir(d);
            if (e == nullptr) {
                if (errno != 0) return from_errno(errno, "read directory " + where.string());
                return ok_status();
            }
            if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
            struct stat st {};
            if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) continue; // removed while we walk: nothing to count
                return from_errno(errno, "stat " + (where / e->d_name).string());
            }
            count(st);
            if (S_ISDIR(st.st_mode)) {
                fs::UniqueFd sub(
                    ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!sub) {
                    if (errno == ENOENT) continue;
                    return from_errno(errno, "open " + (where / e->d_name).string());
                }
                GANTRY_TRY(walk(sub.get(), where / e->d_name));
            }
        }
    }
};

} // namespace

Result<Usage> disk_usage(const std::filesystem::path& root) {
    fs::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return from_errno(errno, "open " + root.string());
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return from_errno(errno, "stat " + root.string());
    Walker w;
    w.count(st);
    GANTRY_TRY(w.walk(fd.get(), root));
    return w.usage;
}

} // namespace gantry::snapshots
