// Layer apply: see apply.hpp for the safety model. Layout of this file:
//   path cleaning -> in-root resolution (openat2, and a creating walker for missing parents)
//   -> per-entry handlers (whiteouts, create, metadata) -> the libarchive read loop.
#include "core/archive/apply.hpp"

#include "core/fs/unique_fd.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <linux/openat2.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace gantry::archive {
namespace {

using fs::UniqueFd;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr int kMaxSymlinks = 40; // the kernel's MAXSYMLINKS

// Names in messages are quoted and cut: a hostile 4 KiB name should not flood the log.
std::string in_quotes(std::string_view s) {
    if (s.size() > 200) return "\"" + std::string(s.substr(0, 200)) + "...\"";
    return "\"" + std::string(s) + "\"";
}

// ---- path cleaning ----

// A tar name, cleaned: no ".", "..", empty components; `parent` is "" for the root.
struct CleanPath {
    std::string full;
    std::string parent;
    std::string base;
    std::vector<std::string> parent_parts;
};

// Lexical cleaning (Go's filepath.Clean) relative to the root. Absolute names and names that
// climb out of the root are refused: they never come out of a well-formed layer, and
// neutralising them silently would hide a hostile one.
Result<CleanPath> clean_path(std::string_view name, std::string_view what) {
    if (name.empty()) return invalid_argument(std::string(what) + " has an empty name");
    if (name.size() >= PATH_MAX)
        return invalid_argument(std::string(what) + " name is longer than PATH_MAX");
    if (name.front() == '/')
        return invalid_argument(std::string(what) + " " + in_quotes(name) + " is an absolute path");
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i <= name.size()) {
        std::size_t j = name.find('/', i);
        if (j == std::string_view::npos) j = name.size();
        std::string_view c = name.substr(i, j - i);
        i = j + 1;
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (parts.empty())
                return invalid_argument(std::string(what) + " " + in_quotes(name) +
                                        " escapes the root");
            parts.pop_back();
            continue;
        }
        if (c.find('\0') != std::string_view::npos)
            return invalid_argument(std::string(what) + " name contains NUL");
        parts.emplace_back(c);
    }
    CleanPath p;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k) p.full += '/';
        p.full += parts[k];
    }
    if (!parts.empty()) {
        p.base = parts.back();
        parts.pop_back();
        for (std::size_t k = 0; k < parts.size(); ++k) {
            if (k) p.parent += '/';
            p.parent += parts[k];
        }
    }
    p.parent_parts = std::move(parts);
    return p;
}

// ---- in-root resolution ----

int openat2_in_root(int root, const std::string& rel, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const char* p = rel.empty() ? "." : rel.c_str();
    for (;;) {
        long fd = ::syscall(SYS_openat2, root, p, &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        // EAGAIN: a concurrent rename raced the lookup; the kernel asks us to retry.
        if (errno != EAGAIN && errno != EINTR) return -1;
    }
}

// A path that runs into a file, a symlink loop or the like is the layer's fault.
Error errno_error(int err, std::string_view what) {
    switch (err) {
    case ENOTDIR:
    case ELOOP:
    case EISDIR:
    case EXDEV:
    case EMLINK:
        return invalid_argument(std::string(what) + ": " + std::strerror(err));
    default:
        return from_errno(err, what);
    }
}

std::string proc_fd(int fd) {
    return "/proc/self/fd/" + std::to_string(fd);
}

// Times of a directory to set once every entry is in place.
struct DirTimes {
    std::string path;
    timespec ts[2];
};

// The whole apply's state.
class Applier {
public:
    Applier(const ApplyOptions& o, ApplyStats& s) : opt_(o), stats_(s) {}

    Status open_root(const std::filesystem::path& root);
    Status handle_entry(struct archive* a, archive_entry* e);
    Status finish_dirs();

private:
    Result<UniqueFd> open_parent(const CleanPath& p, bool create);
    Result<UniqueFd> make_parents(const std::vector<std::string>& parts);
    Status copy_lower_dir(const std::vector<std::string>& phys, int newdir);
    Status remove_all_at(int dirfd, const std::string& name);
    Status remove_uncreated(int dirfd);
    Status whiteout(archive_entry* e, const CleanPath& p, std::string_view name);
    Status create(struct archive* a, archive_entry* e, const CleanPath& p, std::string_view name);
    Status write_data(struct archive* a, int fd, std::int64_t size, std::string_view name);
    Status set_metadata(archive_entry* e, int parent, const std::string& base, int fd,
                        const struct stat& now, bool real_fd, mode_t type, std::string_view name);
    Status set_xattrs(archive_entry* e, int parent, const std::string& base, int fd, bool real_fd,
                      mode_t type, std::string_view name);
    void remember(int fd);
    void invalidate_cache() {
        cached_parent_.reset();
        cached_parent_path_.reset();
    }
    bool cancelled() const { return opt_.cancel && opt_.cancel->load(std::memory_order_relaxed); }

    const ApplyOptions& opt_;
    ApplyStats& stats_;
    UniqueFd root_;
    std::vector<UniqueFd> lowers_;
    // Inodes this layer created or merged into (for opaque directories in Remove mode).
    struct InodeHash {
        std::size_t operator()(const std::pair<dev_t, ino_t>& k) const noexcept {
            return std::hash<std::uint64_t>()(k.second * 1000003u ^ k.first);
        }
    };
    std::unordered_set<std::pair<dev_t, ino_t>, InodeHash> created_;
    std::vector<DirTimes> dirs_;
    // The last parent directory opened. Resolving a path that succeeded can only change when
    // a name is removed (adding names never alters an existing resolution), so the cache is
    // dropped on every removal.
    UniqueFd cached_parent_;
    std::optional<std::string> cached_parent_path_;
};

Status Applier::open_root(const std::filesystem::path& root) {
    root_.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_) return errno_error(errno, "open layer root " + root.string());
    if (opt_.whiteouts == WhiteoutMode::OverlayUpper) {
        for (const auto& l : opt_.lower_dirs) {
            UniqueFd fd(::open(l.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!fd) return errno_error(errno, "open lower directory " + l.string());
            lowers_.push_back(std::move(fd));
        }
    }
    return ok_status();
}

void Applier::remember(int fd) {
    if (opt_.whiteouts != WhiteoutMode::Remove) return;
    struct stat st;
    if (::fstat(fd, &st) == 0) created_.insert({st.st_dev, st.st_ino});
}

// The entry's parent, resolved inside the root. Missing parents are created when `create`.
Result<UniqueFd> Applier::open_parent(const CleanPath& p, bool create) {
    if (cached_parent_path_ && *cached_parent_path_ == p.parent) {
        int fd = ::fcntl(cached_parent_.get(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return errno_error(errno, "dup");
        return UniqueFd(fd);
    }
    UniqueFd fd(openat2_in_root(root_.get(), p.parent, O_PATH | O_DIRECTORY));
    if (!fd && errno == ENOENT && create) {
        GANTRY_ASSIGN_OR_RETURN(fd, make_parents(p.parent_parts));
    } else if (!fd) {
        return errno_error(errno, "open parent directory " + in_quotes(p.parent));
    }
    cached_parent_.reset(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
    cached_parent_path_ = p.parent;
    return fd;
}

// mkdir -p inside the root: walks one component at a time from the root fd, following
// symlinks the way RESOLVE_IN_ROOT does ("/" and ".." clamp at the root; a link's target is
// walked from the directory holding it), creating what is missing. Every step is a single
// name looked up with *at(AT_SYMLINK_NOFOLLOW) in a directory we already hold, so nothing can
// lead outside.
Result<UniqueFd> Applier::make_parents(const std::vector<std::string>& parts) {
    struct Level {
        UniqueFd fd;
        std::string name;
    };
    std::vector<Level> stack; // physical path below the root
    auto top = [&] { return stack.empty() ? root_.get() : stack.back().fd.get(); };
    std::vector<std::string> todo(parts.rbegin(), parts.rend()); // a stack: back() is next
    int links = 0;
    while (!todo.empty()) {
        std::string c = std::move(todo.back());
        todo.pop_back();
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (!stack.empty()) stack.pop_back();
            continue;
        }
        struct stat st;
        if (::fstatat(top(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) return errno_error(errno, "stat parent " + in_quotes(c));
            if (::mkdirat(top(), c.c_str(), 0755) != 0 && errno != EEXIST)
                return errno_error(errno, "create parent directory " + in_quotes(c));
            UniqueFd nd(
                ::openat(top(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!nd) return errno_error(errno, "open new parent directory " + in_quotes(c));
            std::vector<std::string> phys;
            for (auto& l : stack)
                phys.push_back(l.name);
            phys.push_back(c);
            if (::fchmod(nd.get(), 0755) != 0) return errno_error(errno, "chmod parent " + c);
            GANTRY_TRY(copy_lower_dir(phys, nd.get()));
            remember(nd.get());
            stack.push_back({std::move(nd), c});
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            UniqueFd nd(::openat(top(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!nd) return errno_error(errno, "open parent " + in_quotes(c));
            stack.push_back({std::move(nd), c});
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > kMaxSymlinks)
                return Error(Errc::InvalidArgument, "too many levels of symbolic links");
            std::vector<char> buf(PATH_MAX + 1);
            ssize_t n = ::readlinkat(top(), c.c_str(), buf.data(), PATH_MAX);
            if (n < 0) return errno_error(errno, "readlink " + in_quotes(c));
            std::string_view target(buf.data(), static_cast<std::size_t>(n));
            if (!target.empty() && target.front() == '/') stack.clear();
            // Push the target's components so that its first one is walked next.
            std::vector<std::string> comps;
            std::size_t i = 0;
            while (i <= target.size()) {
                std::size_t j = target.find('/', i);
                if (j == std::string_view::npos) j = target.size();
                comps.emplace_back(target.substr(i, j - i));
                i = j + 1;
            }
            for (auto it = comps.rbegin(); it != comps.rend(); ++it)
                todo.push_back(*it);
            continue;
        }
        return Error(Errc::InvalidArgument,
                     "parent component " + in_quotes(c) + " exists and is not a directory");
    }
    int fd = ::fcntl(top(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return errno_error(errno, "dup");
    return UniqueFd(fd);
}

// OverlayUpper: a parent the layer did not carry takes its metadata from the first lower
// layer holding that path as a directory (a lower with a non-directory there stops the
// search: the directory is new). trusted.* xattrs are not copied, as in containerd.
Status Applier::copy_lower_dir(const std::vector<std::string>& phys, int newdir) {
    if (lowers_.empty()) return ok_status();
    std::string rel;
    for (std::size_t i = 0; i < phys.size(); ++i)
        rel += (i ? "/" : "") + phys[i];
    for (auto& lower : lowers_) {
        UniqueFd lfd(openat2_in_root(lower.get(), rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
        if (!lfd) {
            if (errno == ENOENT) continue;
            if (errno == ELOOP || errno == ENOTDIR) return ok_status(); // a symlink: new dir
            return errno_error(errno, "open lower " + in_quotes(rel));
        }
        struct stat st;
        if (::fstat(lfd.get(), &st) != 0) return errno_error(errno, "stat lower " + rel);
        if (!S_ISDIR(st.st_mode)) return ok_status();
        if (::fchown(newdir, st.st_uid, st.st_gid) != 0) return errno_error(errno, "chown " + rel);
        if (::fchmod(newdir, st.st_mode & 07777) != 0) return errno_error(errno, "chmod " + rel);
        ssize_t len = ::flistxattr(lfd.get(), nullptr, 0);
        if (len > 0) {
            std::vector<char> names(static_cast<std::size_t>(len));
            len = ::flistxattr(lfd.get(), names.data(), names.size());
            for (ssize_t i = 0; len > 0 && i < len;) {
                std::string key(names.data() + i);
                i += static_cast<ssize_t>(key.size()) + 1;
                if (key.starts_with("trusted.")) continue;
                ssize_t vl = ::fgetxattr(lfd.get(), key.c_str(), nullptr, 0);
                if (vl < 0) continue;
                std::vector<char> v(static_cast<std::size_t>(vl));
                vl = ::fgetxattr(lfd.get(), key.c_str(), v.data(), v.size());
                if (vl < 0) continue;
                if (::fsetxattr(newdir, key.c_str(), v.data(), static_cast<std::size_t>(vl), 0) !=
                        0 &&
                    errno != ENOTSUP)
                    return errno_error(errno, "copy xattr " + key + " to " + rel);
            }
        }
        DirTimes dt{rel, {st.st_atim, st.st_mtim}};
        dirs_.push_back(dt);
        return ok_status();
    }
    return ok_status();
}

Status Applier::remove_all_at(int dirfd, const std::string& name) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return ok_status();
        return errno_error(errno, "stat " + in_quotes(name));
    }
    invalidate_cache();
    if (!S_ISDIR(st.st_mode)) {
        if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
            return errno_error(errno, "remove " + in_quotes(name));
        return ok_status();
    }
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, "open " + in_quotes(name));
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return errno_error(errno, "opendir " + in_quotes(name));
    }
    std::vector<std::string> children;
    while (dirent* de = ::readdir(d)) {
        std::string_view n = de->d_name;
        if (n != "." && n != "..") children.emplace_back(n);
    }
    Status s = ok_status();
    for (auto& c : children) {
        s = remove_all_at(::dirfd(d), c);
        if (!s.ok()) break;
    }
    ::closedir(d);
    GANTRY_TRY(std::move(s));
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
        return errno_error(errno, "remove directory " + in_quotes(name));
    return ok_status();
}

// Remove mode opaque marker: drop every entry below `dirfd` this layer did not create;
// directories it did create (or merged into) are kept and searched, as containerd walks them.
Status Applier::remove_uncreated(int dirfd) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, "open opaque directory");
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return errno_error(errno, "opendir");
    }
    std::vector<std::string> children;
    while (dirent* de = ::readdir(d)) {
        std::string_view n = de->d_name;
        if (n != "." && n != "..") children.emplace_back(n);
    }
    Status s = ok_status();
    for (auto& c : children) {
        struct stat st;
        if (::fstatat(::dirfd(d), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (created_.count({st.st_dev, st.st_ino})) {
            if (S_ISDIR(st.st_mode)) {
                UniqueFd sub(
                    ::openat(::dirfd(d), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (sub) s = remove_uncreated(sub.get());
            }
        } else {
            s = remove_all_at(::dirfd(d), c);
        }
        if (!s.ok()) break;
    }
    ::closedir(d);
    return s;
}

Status Applier::whiteout(archive_entry* e, const CleanPath& p, std::string_view name) {
    bool opaque = p.base == kOpaqueMarker;
    std::string target;
    if (opaque) {
        ++stats_.opaques;
    } else {
        ++stats_.whiteouts;
        target = p.base.substr(kWhiteoutPrefix.size());
        // The target must be a plain name in the same directory.
        if (target.empty() || target == "." || target == "..")
            return invalid_argument("invalid whiteout name " + in_quotes(name));
    }
    bool upper = opt_.whiteouts == WhiteoutMode::OverlayUpper;
    UniqueFd parent;
    {
        auto r = open_parent(p, upper);
        if (!r.ok()) {
            // Nothing to delete below a directory that does not exist.
            if (!upper && r.error().is(Errc::NotFound)) return ok_status();
            return std::move(r).error();
        }
        parent = std::move(r).value();
    }
    if (!upper) {
        if (!opaque) return remove_all_at(parent.get(), target);
        invalidate_cache();
        return remove_uncreated(parent.get());
    }
    if (opaque) {
        if (::setxattr(proc_fd(parent.get()).c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
            return errno_error(errno, "set trusted.overlay.opaque");
        return ok_status();
    }
    GANTRY_TRY(remove_all_at(parent.get(), target));
    if (::mknodat(parent.get(), target.c_str(), S_IFCHR, makedev(0, 0)) != 0)
        return errno_error(errno, "create whiteout device " + in_quotes(target));
    if (opt_.preserve_ownership &&
        ::fchownat(parent.get(), target.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                   static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) != 0)
        return errno_error(errno, "chown whiteout " + in_quotes(target));
    return ok_status();
}

Status Applier::write_data(struct archive* a, int fd, std::int64_t size, std::string_view name) {
    const void* buf = nullptr;
    std::size_t len = 0;
    la_int64_t offset = 0;
    std::int64_t end = 0;
    for (;;) {
        if (cancelled()) return Error(Errc::Canceled, "layer apply cancelled");
        int r = archive_read_data_block(a, &buf, &len, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
            return invalid_argument("read data of " + in_quotes(name) + ": " +
                                    (archive_error_string(a) ? archive_error_string(a) : "error"));
        if (offset < 0 || offset + static_cast<std::int64_t>(len) > size)
            return invalid_argument("data of " + in_quotes(name) + " exceeds its size");
        const char* p = static_cast<const char*>(buf);
        while (len > 0) {
            ssize_t n = ::pwrite(fd, p, len, offset);
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno_error(errno, "write " + in_quotes(name));
            }
            p += n;
            len -= static_cast<std::size_t>(n);
            offset += n;
        }
        end = std::max<std::int64_t>(end, offset);
    }
    // A sparse file may end in a hole.
    if (end < size && ::ftruncate(fd, size) != 0)
        return errno_error(errno, "truncate " + in_quotes(name));
    return ok_status();
}

Status Applier::set_xattrs(archive_entry* e, int parent, const std::string& base, int fd,
                           bool real_fd, mode_t type, std::string_view name) {
    int count = archive_entry_xattr_reset(e);
    if (count <= 0) return ok_status();
    if (static_cast<std::size_t>(count) > opt_.limits.max_xattrs_per_entry)
        return invalid_argument(in_quotes(name) + " has too many xattrs");
    const char* key = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
        std::string_view k = key ? key : "";
        if (k.empty() || k.size() > XATTR_NAME_MAX)
            return invalid_argument("invalid xattr name on " + in_quotes(name));
        if (size > opt_.limits.max_xattr_value)
            return invalid_argument("xattr " + std::string(k) + " on " + in_quotes(name) +
                                    " is too large");
        // containerd refuses to set trusted.* from a layer and ignores it.
        if (k.starts_with("trusted.")) continue;
        int rc;
        if (real_fd)
            rc = ::fsetxattr(fd, key, value, size, 0);
        else if (!S_ISLNK(type))
            rc = ::setxattr(proc_fd(fd).c_str(), key, value, size, 0);
        else
            rc = ::lsetxattr((proc_fd(parent) + "/" + base).c_str(), key, value, size, 0);
        if (rc == 0) continue;
        if (errno == ENOTSUP) continue;
        if (errno == EPERM && k.starts_with("user.") && !S_ISREG(type) && !S_ISDIR(type)) continue;
        return errno_error(errno, "set xattr " + std::string(k) + " on " + in_quotes(name));
    }
    return ok_status();
}

timespec entry_mtime(archive_entry* e) {
    return {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
}

// containerd sets atime to the later of atime and mtime.
timespec entry_atime(archive_entry* e) {
    timespec m = entry_mtime(e);
    if (!archive_entry_atime_is_set(e)) return m;
    timespec a{archive_entry_atime(e), archive_entry_atime_nsec(e)};
    if (a.tv_sec > m.tv_sec || (a.tv_sec == m.tv_sec && a.tv_nsec > m.tv_nsec)) return a;
    return m;
}

// Owner, then xattrs (chown clears security.capability), then mode (chown clears setuid),
// then times.
Status Applier::set_metadata(archive_entry* e, int parent, const std::string& base, int fd,
                             const struct stat& now, bool real_fd, mode_t type,
                             std::string_view name) {
    if (opt_.preserve_ownership) {
        auto uid = archive_entry_uid(e);
        auto gid = archive_entry_gid(e);
        if (uid < 0 || gid < 0 || uid > 0xfffffffe || gid > 0xfffffffe)
            return invalid_argument("invalid owner of " + in_quotes(name));
        // Skipped when already right (most files of a root-owned layer): a syscall per file.
        bool same = now.st_uid == static_cast<uid_t>(uid) && now.st_gid == static_cast<gid_t>(gid);
        if (!same && ::fchownat(fd, "", static_cast<uid_t>(uid), static_cast<gid_t>(gid),
                                AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
            return errno_error(errno, "chown " + in_quotes(name));
    }
    GANTRY_TRY(set_xattrs(e, parent, base, fd, real_fd, type, name));
    if (!S_ISLNK(type)) {
        mode_t mode = archive_entry_perm(e) & 07777;
        int rc = real_fd ? ::fchmod(fd, mode) : ::chmod(proc_fd(fd).c_str(), mode);
        if (rc != 0) return errno_error(errno, "chmod " + in_quotes(name));
    }
    timespec ts[2] = {entry_atime(e), entry_mtime(e)};
    if (S_ISDIR(type)) return ok_status(); // finish_dirs(): children change a dir's mtime
    if (::utimensat(parent, base.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
        return errno_error(errno, "set times of " + in_quotes(name));
    return ok_status();
}

Status Applier::create(struct archive* a, archive_entry* e, const CleanPath& p,
                       std::string_view name) {
    const char* hardlink = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    if (hardlink) type = 0; // decided by the target

    if ((type == AE_IFCHR || type == AE_IFBLK) && opt_.devices != DeviceNodes::Create) {
        if (opt_.devices == DeviceNodes::Skip) {
            ++stats_.ignored;
            return ok_status();
        }
        return invalid_argument("device node " + in_quotes(name) + " is not allowed in a layer");
    }
    if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO &&
        type != AE_IFCHR && type != AE_IFBLK)
        return invalid_argument("unsupported entry type of " + in_quotes(name));
    if (type == AE_IFREG && archive_entry_size(e) > opt_.limits.max_entry_size)
        return invalid_argument(in_quotes(name) + " is larger than the limit");

    // Resolve a hard link's target before touching the destination.
    UniqueFd tparent;
    CleanPath tp;
    if (hardlink) {
        GANTRY_ASSIGN_OR_RETURN(tp, clean_path(hardlink, "hard link target of " + in_quotes(name)));
        if (tp.full.empty())
            return invalid_argument("hard link " + in_quotes(name) + " points at the root");
        tparent.reset(openat2_in_root(root_.get(), tp.parent, O_PATH | O_DIRECTORY));
        if (!tparent)
            return invalid_argument("hard link target " + in_quotes(hardlink) + " of " +
                                    in_quotes(name) + ": " + std::strerror(errno));
        struct stat st;
        if (::fstatat(tparent.get(), tp.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return invalid_argument("hard link target " + in_quotes(hardlink) + " of " +
                                    in_quotes(name) + ": " + std::strerror(errno));
        bool device = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
        if (S_ISDIR(st.st_mode) || (device && opt_.devices != DeviceNodes::Create) ||
            S_ISSOCK(st.st_mode))
            return invalid_argument("hard link " + in_quotes(name) + " to " + in_quotes(hardlink) +
                                    ", which is not a regular file");
        type = st.st_mode & S_IFMT;
    }

    GANTRY_ASSIGN_OR_RETURN(UniqueFd parent, open_parent(p, true));
    const char* base = p.base.c_str();

    UniqueFd fd;
    bool real_fd = false;
    // A new regular file is the common case: try to create it before looking for an old entry.
    auto create_file = [&] {
        fd.reset(::openat(parent.get(), base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0600));
        return fd.valid();
    };
    bool created_file = !hardlink && type == AE_IFREG && create_file();
    if (!created_file && !hardlink && type == AE_IFREG && errno != EEXIST)
        return errno_error(errno, "create " + in_quotes(name));

    bool merge = false;
    if (!created_file) {
        struct stat old;
        bool exists = ::fstatat(parent.get(), base, &old, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && errno != ENOENT) return errno_error(errno, "stat " + in_quotes(name));
        merge = exists && S_ISDIR(old.st_mode) && type == AE_IFDIR && !hardlink;
        if (exists && !merge) GANTRY_TRY(remove_all_at(parent.get(), p.base));
    }
    auto open_path = [&] {
        fd.reset(::openat(parent.get(), base, O_PATH | O_NOFOLLOW | O_CLOEXEC));
        return fd.valid();
    };
    if (hardlink) {
        if (::linkat(tparent.get(), tp.base.c_str(), parent.get(), base, 0) != 0)
            return errno_error(errno,
                               "hard link " + in_quotes(name) + " to " + in_quotes(hardlink));
        if (!open_path()) return errno_error(errno, "open " + in_quotes(name));
        ++stats_.hardlinks;
    } else {
        switch (type) {
        case AE_IFDIR:
            if (!merge && ::mkdirat(parent.get(), base, 0700) != 0)
                return errno_error(errno, "create directory " + in_quotes(name));
            fd.reset(::openat(parent.get(), base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd) return errno_error(errno, "open directory " + in_quotes(name));
            real_fd = true;
            ++stats_.directories;
            break;
        case AE_IFREG:
            if (!created_file && !create_file())
                return errno_error(errno, "create " + in_quotes(name));
            real_fd = true;
            GANTRY_TRY(write_data(a, fd.get(), archive_entry_size(e), name));
            ++stats_.files;
            break;
        case AE_IFLNK: {
            const char* target = archive_entry_symlink(e);
            if (!target) target = archive_entry_symlink_utf8(e);
            if (!target || !*target)
                return invalid_argument("symlink " + in_quotes(name) + " has no target");
            if (std::strlen(target) >= PATH_MAX)
                return invalid_argument("symlink target of " + in_quotes(name) + " is too long");
            if (::symlinkat(target, parent.get(), base) != 0)
                return errno_error(errno, "create symlink " + in_quotes(name));
            if (!open_path()) return errno_error(errno, "open " + in_quotes(name));
            ++stats_.symlinks;
            break;
        }
        case AE_IFIFO:
        case AE_IFCHR:
        case AE_IFBLK: {
            dev_t dev = type == AE_IFIFO
                            ? 0
                            : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
            if (::mknodat(parent.get(), base, type | 0600, dev) != 0)
                return errno_error(errno, "create node " + in_quotes(name));
            if (!open_path()) return errno_error(errno, "open " + in_quotes(name));
            ++stats_.specials;
            break;
        }
        default:
            return invalid_argument("unsupported entry type of " + in_quotes(name));
        }
    }

    // What we opened must be what we made: nothing else can have been swapped in, but checking
    // costs one fstat and turns any surprise into an error instead of a chmod on the wrong file.
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return errno_error(errno, "stat " + in_quotes(name));
    if ((st.st_mode & S_IFMT) != type)
        return internal_error("entry " + in_quotes(name) + " changed type while being applied");

    GANTRY_TRY(set_metadata(e, parent.get(), p.base, fd.get(), st, real_fd, type, name));
    if (type == AE_IFDIR) dirs_.push_back({p.full, {entry_atime(e), entry_mtime(e)}});
    created_.insert({st.st_dev, st.st_ino});
    return ok_status();
}

Status Applier::handle_entry(struct archive* a, archive_entry* e) {
    if (++stats_.entries > opt_.limits.max_entries)
        return invalid_argument("layer has more than " + std::to_string(opt_.limits.max_entries) +
                                " entries");
    const char* raw = archive_entry_pathname(e);
    if (!raw) raw = archive_entry_pathname_utf8(e);
    if (!raw) return invalid_argument("entry without a usable name");
    std::string_view name = raw;
    std::int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (size < 0) return invalid_argument("entry " + in_quotes(name) + " has a negative size");
    if (size > opt_.limits.max_entry_size)
        return invalid_argument("entry " + in_quotes(name) + " is larger than the limit (" +
                                std::to_string(size) + " bytes)");
    stats_.bytes += size;

    GANTRY_ASSIGN_OR_RETURN(CleanPath p, clean_path(name, "entry"));
    if (p.full.empty()) {
        ++stats_.ignored; // the root itself
        return ok_status();
    }
    if (p.base.starts_with(kWhiteoutPrefix)) return whiteout(e, p, name);
    return create(a, e, p, name);
}

Status Applier::finish_dirs() {
    invalidate_cache();
    for (const auto& d : dirs_) {
        auto p = clean_path(d.path, "directory");
        if (!p.ok() || p->full.empty()) continue;
        UniqueFd parent(openat2_in_root(root_.get(), p->parent, O_PATH | O_DIRECTORY));
        if (!parent) continue; // removed by a later entry
        struct stat st;
        if (::fstatat(parent.get(), p->base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        if (::utimensat(parent.get(), p->base.c_str(), d.ts, AT_SYMLINK_NOFOLLOW) != 0)
            return errno_error(errno, "set times of " + in_quotes(d.path));
    }
    return ok_status();
}

// libarchive pulls the tar through this callback; our errors are kept to be returned as is.
struct ReadContext {
    ByteSource* src = nullptr;
    std::vector<char> scratch = std::vector<char>(1 << 20);
    std::optional<Error> error;
    bool eof = false;
};

la_ssize_t read_cb(struct archive* a, void* data, const void** buf) {
    auto* ctx = static_cast<ReadContext*>(data);
    if (ctx->eof) return 0;
    auto r = ctx->src->next(ctx->scratch);
    if (!r.ok()) {
        ctx->error = std::move(r).error();
        archive_set_error(a, EIO, "%s", ctx->error->message().c_str());
        return -1;
    }
    if (r->empty()) ctx->eof = true;
    *buf = r->data();
    return static_cast<la_ssize_t>(r->size());
}

struct ArchiveDeleter {
    void operator()(struct archive* a) const { archive_read_free(a); }
};

} // namespace

Result<ApplyStats> apply_layer(ByteSource& tar_stream, const std::filesystem::path& root,
                               const ApplyOptions& options) {
    ApplyStats stats;
    Applier applier(options, stats);
    GANTRY_TRY(applier.open_root(root));

    ReadContext ctx;
    ctx.src = &tar_stream;
    std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
    if (!a) return internal_error("archive_read_new failed");
    archive_read_support_format_tar(a.get());   // ustar, pax, GNU (incl. sparse, long names)
    archive_read_support_format_empty(a.get()); // a 0-byte layer is an empty layer
    // No filters: the stream is already decompressed (the digest is over these bytes).
    auto archive_error = [&](std::string_view what) -> Error {
        if (ctx.error) return *ctx.error;
        const char* msg = archive_error_string(a.get());
        return invalid_argument(std::string(what) + ": " + (msg ? msg : "invalid tar"));
    };
    if (archive_read_open(a.get(), &ctx, nullptr, read_cb, nullptr) != ARCHIVE_OK)
        return archive_error("invalid layer tar");

    for (;;) {
        if (options.cancel && options.cancel->load())
            return Error(Errc::Canceled, "layer apply cancelled");
        archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return archive_error("invalid layer tar");
        auto s = applier.handle_entry(a.get(), e);
        if (!s.ok()) {
            if (ctx.error) return *ctx.error; // e.g. a corrupt gzip under the tar
            const char* n = archive_entry_pathname(e);
            return std::move(s).error().wrap("apply layer entry " + in_quotes(n ? n : "?"));
        }
    }
    GANTRY_TRY(applier.finish_dirs());
    a.reset();
    // Trailing bytes after the end-of-archive blocks still belong to the layer's digest.
    if (!ctx.eof) {
        GANTRY_ASSIGN_OR_RETURN(stats.trailing_bytes, drain(tar_stream));
    }
    return stats;
}

} // namespace gantry::archive
