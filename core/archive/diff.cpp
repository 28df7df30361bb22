// Tree comparison and the tar writer behind write_diff() / write_overlay_diff().
//
// Every lookup is relative to a directory fd opened with O_NOFOLLOW, so a symlink in either tree
// is never followed while walking; xattrs are read through /proc/self/fd/<dir>/<name> with the
// l* calls for the same reason (fd-relative xattr calls do not exist for symlinks).
#include "core/archive/diff.hpp"

#include "core/fs/unique_fd.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace gantry::archive {

namespace {

using fs::UniqueFd;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::size_t kCopyChunk = 256 * 1024;

using Xattrs = std::vector<std::pair<std::string, std::string>>; // sorted by name

Error sys_error(int err, std::string_view what, std::string_view path) {
    return from_errno(err, std::string(what) + " " + std::string(path));
}

std::string join(const std::string& rel, std::string_view name) {
    return rel.empty() ? std::string(name) : rel + "/" + std::string(name);
}

std::string proc_path(int dirfd, std::string_view name) {
    return "/proc/self/fd/" + std::to_string(dirfd) + "/" + std::string(name);
}

// The names in a directory, without . and .., in byte order.
Result<std::vector<std::string>> list_names(int dirfd, const std::string& rel) {
    int dup_fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return sys_error(errno, "dup", rel);
    DIR* dir = ::fdopendir(dup_fd);
    if (dir == nullptr) {
        int err = errno;
        ::close(dup_fd);
        return sys_error(err, "opendir", rel);
    }
    ::rewinddir(dir);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* d = ::readdir(dir)) {
        std::string_view n = d->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
        errno = 0;
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return sys_error(err, "readdir", rel);
    std::sort(names.begin(), names.end());
    return names;
}

Result<UniqueFd> open_dir(int parent, const std::string& name, const std::string& rel) {
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return sys_error(errno, "open directory", rel);
    return UniqueFd(fd);
}

// 0 when found, ENOENT when absent, an error otherwise.
Result<bool> lstat_at(int dirfd, const std::string& name, struct stat& st, const std::string& rel) {
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
    if (errno == ENOENT) return false;
    return sys_error(errno, "stat", rel);
}

// Xattrs a layer carries: overlay's own bookkeeping and SELinux labels describe this host, not
// the image, and are left out.
bool kept_xattr(std::string_view n) {
    return !n.starts_with("trusted.overlay.") && !n.starts_with("user.overlay.") &&
           n != "security.selinux";
}

Result<Xattrs> read_xattrs(int dirfd, const std::string& name, const std::string& rel) {
    std::string path = proc_path(dirfd, name);
    Xattrs out;
    std::vector<char> list;
    for (;;) {
        ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
        if (n < 0) {
            if (errno == ENOTSUP) return out;
            return sys_error(errno, "list xattrs of", rel);
        }
        if (n == 0) return out;
        list.resize(static_cast<std::size_t>(n));
        n = ::llistxattr(path.c_str(), list.data(), list.size());
        if (n < 0 && errno == ERANGE) continue; // grew meanwhile
        if (n < 0) return sys_error(errno, "list xattrs of", rel);
        list.resize(static_cast<std::size_t>(n));
        break;
    }
    std::vector<char> value;
    for (std::size_t i = 0; i < list.size();) {
        std::string key(list.data() + i);
        i += key.size() + 1;
        if (key.empty() || !kept_xattr(key)) continue;
        for (;;) {
            ssize_t n = ::lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
            if (n < 0 && errno == ENODATA) break; // removed meanwhile
            if (n < 0) return sys_error(errno, "read xattr " + key + " of", rel);
            value.resize(static_cast<std::size_t>(n));
            n = ::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
            if (n < 0 && errno == ERANGE) continue;
            if (n < 0) return sys_error(errno, "read xattr " + key + " of", rel);
            out.emplace_back(key, std::string(value.data(), static_cast<std::size_t>(n)));
            break;
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// True when the raw xattr `key` is present (used on overlay upperdirs only).
Result<std::string> raw_xattr(int dirfd, const std::string& name, const char* key,
                              const std::string& rel) {
    std::array<char, 256> buf{};
    ssize_t n = ::lgetxattr(proc_path(dirfd, name).c_str(), key, buf.data(), buf.size());
    if (n >= 0) return std::string(buf.data(), static_cast<std::size_t>(n));
    if (errno == ENODATA || errno == ENOTSUP) return std::string();
    if (errno == ERANGE) return std::string("?"); // present and long: only presence matters
    return sys_error(errno, std::string("read xattr ") + key + " of", rel);
}

Result<std::string> read_link(int dirfd, const std::string& name, const std::string& rel) {
    std::vector<char> buf(256);
    for (;;) {
        ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
        if (n < 0) return sys_error(errno, "readlink", rel);
        if (static_cast<std::size_t>(n) < buf.size())
            return std::string(buf.data(), static_cast<std::size_t>(n));
        buf.resize(buf.size() * 2);
    }
}

// Fills buf completely unless the file ends first; returns the bytes read.
Result<std::size_t> read_full(int fd, char* buf, std::size_t len, const std::string& rel) {
    std::size_t got = 0;
    while (got < len) {
        ssize_t n = ::read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_error(errno, "read", rel);
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return got;
}

Result<bool> same_content(int lfd_dir, int ufd_dir, const std::string& name,
                          const std::string& rel) {
    UniqueFd a(::openat(lfd_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!a) return sys_error(errno, "open lower", rel);
    UniqueFd b(::openat(ufd_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!b) return sys_error(errno, "open upper", rel);
    std::vector<char> x(64 * 1024), y(64 * 1024);
    for (;;) {
        GANTRY_ASSIGN_OR_RETURN(std::size_t n1, read_full(a.get(), x.data(), x.size(), rel));
        GANTRY_ASSIGN_OR_RETURN(std::size_t n2, read_full(b.get(), y.data(), y.size(), rel));
        if (n1 != n2 || std::memcmp(x.data(), y.data(), n1) != 0) return false;
        if (n1 < x.size()) return true;
    }
}

bool same_meta(const struct stat& a, const struct stat& b, const Xattrs& ax, const Xattrs& bx) {
    return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
           a.st_rdev == b.st_rdev && ax == bx;
}

// libarchive's write side behind a ByteSink; PAX, SCHILY xattr records only (what Go's tar and
// containerd read), no padding of the last block (a layer ends with the two zero blocks).
class TarWriter {
public:
    explicit TarWriter(const ByteSink& sink) : sink_(sink) {}
    ~TarWriter() {
        if (a_ != nullptr) archive_write_free(a_);
    }
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    Status open() {
        a_ = archive_write_new();
        if (a_ == nullptr) return internal_error("tar: out of memory");
        if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK ||
            archive_write_set_format_option(a_, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(a_, 64 * 1024) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a_, 1) != ARCHIVE_OK)
            return lib_error("configure");
        if (archive_write_open(a_, this, nullptr, &TarWriter::on_write, nullptr) != ARCHIVE_OK)
            return lib_error("open");
        return ok_status();
    }

    Status header(archive_entry* e) {
        int rc = archive_write_header(a_, e);
        // WARN: a name that is not valid in the locale's charset is stored as raw bytes.
        if (rc < ARCHIVE_WARN) return lib_error("write header");
        return ok_status();
    }

    Status data(const char* p, std::size_t n) {
        la_ssize_t w = archive_write_data(a_, p, n);
        if (w < 0 || static_cast<std::size_t>(w) != n) return lib_error("write data");
        return ok_status();
    }

    Status close() {
        if (archive_write_close(a_) != ARCHIVE_OK) return lib_error("close");
        return ok_status();
    }

private:
    static la_ssize_t on_write(struct archive*, void* self, const void* buf, size_t n) {
        auto* w = static_cast<TarWriter*>(self);
        Status s = w->sink_(std::string_view(static_cast<const char*>(buf), n));
        if (!s.ok()) {
            w->sink_error_ = std::move(s).error();
            return -1;
        }
        return static_cast<la_ssize_t>(n);
    }

    Error lib_error(std::string_view what) {
        if (sink_error_) return *sink_error_;
        const char* msg = a_ != nullptr ? archive_error_string(a_) : nullptr;
        return internal_error("tar " + std::string(what) + ": " + (msg ? msg : "failed"));
    }

    const ByteSink& sink_;
    struct archive* a_ = nullptr;
    std::optional<Error> sink_error_;
};

class EntryPtr {
public:
    EntryPtr() : e_(archive_entry_new()) {}
    ~EntryPtr() { archive_entry_free(e_); }
    EntryPtr(const EntryPtr&) = delete;
    EntryPtr& operator=(const EntryPtr&) = delete;
    archive_entry* get() const { return e_; }

private:
    archive_entry* e_;
};

// The change writer and both walks. `root_fd` is the upper tree's root (the upperdir on the
// overlay path): parents are written from it.
class DiffWalker {
public:
    DiffWalker(TarWriter& tar, int root_fd) : tar_(tar), root_fd_(root_fd) {}

    // Full walk: `lower_fd` is -1 when everything below is new.
    Status walk(int lower_fd, int upper_fd, const std::string& rel, const struct stat& dir_st,
                const std::vector<std::string>& unames, const std::vector<std::string>& lnames) {
        std::size_t i = 0, j = 0;
        while (i < unames.size() || j < lnames.size()) {
            if (j == lnames.size() || (i < unames.size() && unames[i] < lnames[j])) {
                GANTRY_TRY(added(upper_fd, rel, unames[i++]));
            } else if (i == unames.size() || lnames[j] < unames[i]) {
                GANTRY_TRY(whiteout(rel, lnames[j++], dir_st));
            } else {
                GANTRY_TRY(in_both(lower_fd, upper_fd, rel, unames[i]));
                ++i;
                ++j;
            }
        }
        return ok_status();
    }

    // Overlay walk over an upperdir; `lower_fd` is the same directory in the merged lowers, or
    // -1 when nothing below it comes from the lowers (new or opaque).
    Status walk_overlay(int lower_fd, int upper_fd, const std::string& rel,
                        const struct stat& dir_st) {
        GANTRY_ASSIGN_OR_RETURN(auto names, list_names(upper_fd, rel));
        for (const auto& name : names) {
            std::string child = join(rel, name);
            struct stat us {};
            GANTRY_ASSIGN_OR_RETURN(bool present, lstat_at(upper_fd, name, us, child));
            if (!present) continue; // removed while walking
            GANTRY_TRY(check_overlay_features(upper_fd, name, us, child));
            struct stat ls {};
            bool in_lower = false;
            if (lower_fd >= 0) {
                GANTRY_ASSIGN_OR_RETURN(in_lower, lstat_at(lower_fd, name, ls, child));
            }
            if (S_ISCHR(us.st_mode) && us.st_rdev == makedev(0, 0)) {
                if (in_lower) GANTRY_TRY(whiteout(rel, name, dir_st));
                continue;
            }
            if (!in_lower || S_ISDIR(us.st_mode) != S_ISDIR(ls.st_mode)) {
                if (S_ISDIR(us.st_mode)) {
                    GANTRY_TRY(added_dir_overlay(upper_fd, child, name, us));
                } else {
                    GANTRY_TRY(added(upper_fd, rel, name));
                }
                continue;
            }
            if (!S_ISDIR(us.st_mode)) {
                GANTRY_TRY(compare_files(lower_fd, upper_fd, rel, name, ls, us));
                continue;
            }
            GANTRY_ASSIGN_OR_RETURN(UniqueFd udir, open_dir(upper_fd, name, child));
            GANTRY_ASSIGN_OR_RETURN(UniqueFd ldir, open_dir(lower_fd, name, child));
            GANTRY_ASSIGN_OR_RETURN(auto ux, read_xattrs(upper_fd, name, child));
            GANTRY_ASSIGN_OR_RETURN(auto opaque,
                                    overlay_xattr(upper_fd, name, "overlay.opaque", child));
            bool lower_empty = true;
            if (opaque == "y") {
                GANTRY_ASSIGN_OR_RETURN(auto lnames, list_names(ldir.get(), child));
                lower_empty = lnames.empty();
            }
            if (opaque == "y" && !lower_empty) {
                GANTRY_TRY(write_dir(child, us, ux));
                GANTRY_TRY(opaque_marker(child, us));
                GANTRY_TRY(walk_overlay(-1, udir.get(), child, us));
                continue;
            }
            GANTRY_ASSIGN_OR_RETURN(auto lx, read_xattrs(lower_fd, name, child));
            if (!same_meta(ls, us, lx, ux)) GANTRY_TRY(write_dir(child, us, ux));
            GANTRY_TRY(walk_overlay(ldir.get(), udir.get(), child, us));
        }
        return ok_status();
    }

private:
    // An entry of the upper with nothing of the same kind below it.
    Status added(int upper_fd, const std::string& rel, const std::string& name) {
        std::string child = join(rel, name);
        struct stat st {};
        GANTRY_ASSIGN_OR_RETURN(bool present, lstat_at(upper_fd, name, st, child));
        if (!present) return ok_status();
        if (!S_ISDIR(st.st_mode)) {
            GANTRY_ASSIGN_OR_RETURN(auto x, read_xattrs(upper_fd, name, child));
            return emit_file(upper_fd, name, child, st, x, false);
        }
        GANTRY_ASSIGN_OR_RETURN(auto x, read_xattrs(upper_fd, name, child));
        GANTRY_TRY(write_dir(child, st, x));
        GANTRY_ASSIGN_OR_RETURN(UniqueFd dir, open_dir(upper_fd, name, child));
        GANTRY_ASSIGN_OR_RETURN(auto names, list_names(dir.get(), child));
        return walk(-1, dir.get(), child, st, names, {});
    }

    Status added_dir_overlay(int upper_fd, const std::string& child, const std::string& name,
                             const struct stat& st) {
        GANTRY_ASSIGN_OR_RETURN(auto x, read_xattrs(upper_fd, name, child));
        GANTRY_TRY(write_dir(child, st, x));
        GANTRY_ASSIGN_OR_RETURN(UniqueFd dir, open_dir(upper_fd, name, child));
        return walk_overlay(-1, dir.get(), child, st);
    }

    Status in_both(int lower_fd, int upper_fd, const std::string& rel, const std::string& name) {
        std::string child = join(rel, name);
        struct stat ls {
        }, us{};
        GANTRY_ASSIGN_OR_RETURN(bool in_upper, lstat_at(upper_fd, name, us, child));
        GANTRY_ASSIGN_OR_RETURN(bool in_lower, lstat_at(lower_fd, name, ls, child));
        if (!in_upper) return in_lower ? whiteout_stat(rel, name) : ok_status();
        if (!in_lower || S_ISDIR(us.st_mode) != S_ISDIR(ls.st_mode))
            return added(upper_fd, rel, name);
        if (!S_ISDIR(us.st_mode)) return compare_files(lower_fd, upper_fd, rel, name, ls, us);

        GANTRY_ASSIGN_OR_RETURN(UniqueFd udir, open_dir(upper_fd, name, child));
        GANTRY_ASSIGN_OR_RETURN(UniqueFd ldir, open_dir(lower_fd, name, child));
        GANTRY_ASSIGN_OR_RETURN(auto unames, list_names(udir.get(), child));
        GANTRY_ASSIGN_OR_RETURN(auto lnames, list_names(ldir.get(), child));
        GANTRY_ASSIGN_OR_RETURN(auto ux, read_xattrs(upper_fd, name, child));
        // Replaced: none of the lower's entries is left. One opaque marker says that, and
        // everything below is written as new.
        bool replaced = !lnames.empty() &&
                        std::none_of(lnames.begin(), lnames.end(), [&](const std::string& n) {
                            return std::binary_search(unames.begin(), unames.end(), n);
                        });
        if (replaced) {
            GANTRY_TRY(write_dir(child, us, ux));
            GANTRY_TRY(opaque_marker(child, us));
            return walk(-1, udir.get(), child, us, unames, {});
        }
        GANTRY_ASSIGN_OR_RETURN(auto lx, read_xattrs(lower_fd, name, child));
        if (!same_meta(ls, us, lx, ux)) GANTRY_TRY(write_dir(child, us, ux));
        return walk(ldir.get(), udir.get(), child, us, unames, lnames);
    }

    // Two non-directories of the same name.
    Status compare_files(int lower_fd, int upper_fd, const std::string& rel,
                         const std::string& name, const struct stat& ls, const struct stat& us) {
        std::string child = join(rel, name);
        GANTRY_ASSIGN_OR_RETURN(auto ux, read_xattrs(upper_fd, name, child));
        GANTRY_ASSIGN_OR_RETURN(auto lx, read_xattrs(lower_fd, name, child));
        bool same = same_meta(ls, us, lx, ux) && ls.st_size == us.st_size &&
                    ls.st_mtim.tv_sec == us.st_mtim.tv_sec;
        if (same) {
            if (ls.st_mtim.tv_nsec == 0 && us.st_mtim.tv_nsec == 0) {
                // Either side may come from a tar with whole-second times: look at the data.
                if (S_ISLNK(us.st_mode)) {
                    GANTRY_ASSIGN_OR_RETURN(auto a, read_link(lower_fd, name, child));
                    GANTRY_ASSIGN_OR_RETURN(auto b, read_link(upper_fd, name, child));
                    same = a == b;
                } else if (S_ISREG(us.st_mode) && us.st_size > 0) {
                    GANTRY_ASSIGN_OR_RETURN(same, same_content(lower_fd, upper_fd, name, child));
                }
            } else if (ls.st_mtim.tv_nsec != us.st_mtim.tv_nsec) {
                same = false;
            }
        }
        return emit_file(upper_fd, name, child, us, ux, same);
    }

    // A non-directory of the upper. `unchanged` ones matter only as hard links of written ones.
    Status emit_file(int dirfd, const std::string& name, const std::string& rel,
                     const struct stat& st, const Xattrs& x, bool unchanged) {
        if (S_ISSOCK(st.st_mode)) return ok_status(); // not representable in a layer
        std::vector<std::string> extra_links;
        if (st.st_nlink > 1) {
            auto key = std::make_pair(st.st_dev, st.st_ino);
            if (auto it = link_src_.find(key); it != link_src_.end())
                return write_hardlink(rel, it->second, st);
            if (unchanged) {
                link_refs_[key].push_back(rel);
                return ok_status();
            }
            link_src_.emplace(key, rel);
            if (auto it = link_refs_.find(key); it != link_refs_.end()) {
                extra_links = std::move(it->second);
                link_refs_.erase(it);
            }
        } else if (unchanged) {
            return ok_status();
        }
        GANTRY_TRY(ensure_parents(rel));
        GANTRY_TRY(write_file(dirfd, name, rel, st, x));
        for (const auto& other : extra_links)
            GANTRY_TRY(write_hardlink(other, rel, st));
        return ok_status();
    }

    Status write_hardlink(const std::string& rel, const std::string& target,
                          const struct stat& st) {
        GANTRY_TRY(ensure_parents(rel));
        EntryPtr e;
        fill_common(e.get(), rel, st);
        archive_entry_set_size(e.get(), 0);
        archive_entry_set_hardlink(e.get(), target.c_str());
        return tar_.header(e.get());
    }

    Status write_file(int dirfd, const std::string& name, const std::string& rel,
                      const struct stat& st, const Xattrs& x) {
        EntryPtr e;
        fill_common(e.get(), rel, st);
        add_xattrs(e.get(), x);
        UniqueFd file;
        if (S_ISLNK(st.st_mode)) {
            GANTRY_ASSIGN_OR_RETURN(auto target, read_link(dirfd, name, rel));
            archive_entry_set_symlink(e.get(), target.c_str());
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
            archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
        } else if (S_ISREG(st.st_mode)) {
            archive_entry_set_size(e.get(), st.st_size);
            if (st.st_size > 0) {
                file.reset(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
                if (!file) return sys_error(errno, "open", rel);
            }
        }
        GANTRY_TRY(tar_.header(e.get()));
        if (!file) return ok_status();
        buf_.resize(kCopyChunk);
        std::int64_t left = st.st_size;
        while (left > 0) {
            std::size_t want = static_cast<std::size_t>(
                std::min<std::int64_t>(left, static_cast<std::int64_t>(buf_.size())));
            GANTRY_ASSIGN_OR_RETURN(std::size_t got, read_full(file.get(), buf_.data(), want, rel));
            if (got == 0)
                return failed_precondition("file " + rel + " shrank while it was being diffed");
            GANTRY_TRY(tar_.data(buf_.data(), got));
            left -= static_cast<std::int64_t>(got);
        }
        return ok_status();
    }

    Status write_dir(const std::string& rel, const struct stat& st, const Xattrs& x) {
        GANTRY_TRY(ensure_parents(rel));
        return write_dir_header(rel, st, x);
    }

    Status write_dir_header(const std::string& rel, const struct stat& st, const Xattrs& x) {
        EntryPtr e;
        fill_common(e.get(), rel + "/", st);
        add_xattrs(e.get(), x);
        GANTRY_TRY(tar_.header(e.get()));
        emitted_dirs_.insert(rel);
        return ok_status();
    }

    Status whiteout(const std::string& rel, const std::string& name, const struct stat& dir_st) {
        return marker(join(rel, std::string(kWhiteoutPrefix) + name), dir_st);
    }

    // A lower entry vanished between listing and stat: whiteout with the parent's time.
    Status whiteout_stat(const std::string& rel, const std::string& name) {
        struct stat st {};
        if (::fstatat(root_fd_, rel.empty() ? "." : rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return sys_error(errno, "stat", rel);
        return whiteout(rel, name, st);
    }

    Status opaque_marker(const std::string& dir, const struct stat& dir_st) {
        return marker(join(dir, kOpaqueMarker), dir_st);
    }

    // Whiteouts and opaque markers: empty regular files owned by root, mode 0, carrying their
    // directory's mtime so the output does not depend on when the diff ran.
    Status marker(const std::string& path, const struct stat& dir_st) {
        GANTRY_TRY(ensure_parents(path));
        EntryPtr e;
        archive_entry_set_pathname(e.get(), path.c_str());
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0);
        archive_entry_set_size(e.get(), 0);
        archive_entry_set_mtime(e.get(), dir_st.st_mtim.tv_sec, 0);
        return tar_.header(e.get());
    }

    // Writes every directory above `rel` not written yet, top down, from the upper root.
    Status ensure_parents(const std::string& rel) {
        for (std::size_t pos = rel.find('/'); pos != std::string::npos;
             pos = rel.find('/', pos + 1)) {
            std::string dir = rel.substr(0, pos);
            if (emitted_dirs_.contains(dir)) continue;
            struct stat st {};
            if (::fstatat(root_fd_, dir.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                return sys_error(errno, "stat", dir);
            if (!S_ISDIR(st.st_mode)) return failed_precondition(dir + " is no longer a directory");
            GANTRY_ASSIGN_OR_RETURN(auto x, read_xattrs(root_fd_, dir, dir));
            GANTRY_TRY(write_dir_header(dir, st, x));
        }
        return ok_status();
    }

    static void fill_common(archive_entry* e, const std::string& path, const struct stat& st) {
        archive_entry_set_pathname(e, path.c_str());
        archive_entry_set_mode(e, st.st_mode);
        archive_entry_set_uid(e, st.st_uid);
        archive_entry_set_gid(e, st.st_gid);
        archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
        archive_entry_set_size(e, 0);
    }

    static void add_xattrs(archive_entry* e, const Xattrs& x) {
        for (const auto& [k, v] : x)
            archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    }

    // Redirected directories and metacopy files keep their data elsewhere in the lowers; this
    // walk cannot follow that, so the caller diffs the mounted trees instead.
    Status check_overlay_features(int dirfd, const std::string& name, const struct stat& st,
                                  const std::string& rel) {
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return ok_status();
        const char* what = S_ISDIR(st.st_mode) ? "overlay.redirect" : "overlay.metacopy";
        GANTRY_ASSIGN_OR_RETURN(auto v, overlay_xattr(dirfd, name, what, rel));
        if (!v.empty() || present_empty_)
            return failed_precondition("overlay upperdir entry " + rel + " has " + what +
                                       ": needs a full walk");
        return ok_status();
    }

    // trusted.<key> or, for overlays mounted with userxattr, user.<key>.
    Result<std::string> overlay_xattr(int dirfd, const std::string& name, const std::string& key,
                                      const std::string& rel) {
        present_empty_ = false;
        for (const char* ns : {"trusted.", "user."}) {
            std::string full = ns + key;
            ssize_t n = ::lgetxattr(proc_path(dirfd, name).c_str(), full.c_str(), nullptr, 0);
            if (n == 0) {
                present_empty_ = true; // metacopy is an empty value
                return std::string();
            }
            if (n > 0) return raw_xattr(dirfd, name, full.c_str(), rel);
            if (errno != ENODATA && errno != ENOTSUP)
                return sys_error(errno, "read xattr " + full + " of", rel);
        }
        return std::string();
    }

    TarWriter& tar_;
    int root_fd_;
    std::set<std::string> emitted_dirs_;
    std::map<std::pair<dev_t, ino_t>, std::string> link_src_;
    std::map<std::pair<dev_t, ino_t>, std::vector<std::string>> link_refs_;
    std::vector<char> buf_;
    bool present_empty_ = false;
};

Result<UniqueFd> open_root(const std::filesystem::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sys_error(errno, "open", p.string());
    return UniqueFd(fd);
}

} // namespace

Status write_diff(const std::filesystem::path& lower, const std::filesystem::path& upper,
                  const ByteSink& sink) {
    GANTRY_ASSIGN_OR_RETURN(UniqueFd ufd, open_root(upper));
    UniqueFd lfd;
    if (!lower.empty()) {
        GANTRY_ASSIGN_OR_RETURN(lfd, open_root(lower));
    }
    struct stat root_st {};
    if (::fstat(ufd.get(), &root_st) != 0) return sys_error(errno, "stat", upper.string());
    TarWriter tar(sink);
    GANTRY_TRY(tar.open());
    DiffWalker walker(tar, ufd.get());
    GANTRY_ASSIGN_OR_RETURN(auto unames, list_names(ufd.get(), upper.string()));
    std::vector<std::string> lnames;
    if (lfd) {
        GANTRY_ASSIGN_OR_RETURN(lnames, list_names(lfd.get(), lower.string()));
    }
    GANTRY_TRY(walker.walk(lfd ? lfd.get() : -1, ufd.get(), "", root_st, unames, lnames));
    return tar.close();
}

Status write_overlay_diff(const std::filesystem::path& lower, const std::filesystem::path& upperdir,
                          const ByteSink& sink) {
    GANTRY_ASSIGN_OR_RETURN(UniqueFd ufd, open_root(upperdir));
    GANTRY_ASSIGN_OR_RETURN(UniqueFd lfd, open_root(lower));
    struct stat root_st {};
    if (::fstat(ufd.get(), &root_st) != 0) return sys_error(errno, "stat", upperdir.string());
    TarWriter tar(sink);
    GANTRY_TRY(tar.open());
    DiffWalker walker(tar, ufd.get());
    GANTRY_TRY(walker.walk_overlay(lfd.get(), ufd.get(), "", root_st));
    return tar.close();
}

} // namespace gantry::archive
