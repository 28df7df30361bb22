// Test helpers: build trees with every kind of entry, and take a comparable snapshot of a tree
// (type, mode, owner, xattrs, link targets, content, regular-file mtimes, hard-link groups).
#pragma once

#include <algorithm>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace gantry::testing {

namespace stdfs = std::filesystem;

inline void write_file(const stdfs::path& p, const std::string& s, mode_t mode = 0644) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
    ::chmod(p.c_str(), mode);
}

inline std::string read_file(const stdfs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void set_mtime(const stdfs::path& p, time_t sec, long nsec = 0) {
    struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

inline std::string xattrs_of(const stdfs::path& p) {
    std::vector<char> list(65536);
    ssize_t n = ::llistxattr(p.c_str(), list.data(), list.size());
    std::vector<std::string> out;
    for (ssize_t i = 0; n > 0 && i < n;) {
        std::string k(list.data() + i);
        i += static_cast<ssize_t>(k.size()) + 1;
        if (k.starts_with("trusted.overlay.") || k == "security.selinux") continue;
        std::vector<char> v(65536);
        ssize_t m = ::lgetxattr(p.c_str(), k.c_str(), v.data(), v.size());
        out.push_back(k + "=" + std::string(v.data(), m > 0 ? static_cast<std::size_t>(m) : 0));
    }
    std::sort(out.begin(), out.end());
    std::string s;
    for (auto& x : out)
        s += x + ";";
    return s;
}

// rel path -> description; equal maps mean equal trees for everything a layer carries.
inline std::map<std::string, std::string> snapshot(const stdfs::path& root) {
    std::map<std::string, std::string> out;
    std::map<std::pair<dev_t, ino_t>, std::vector<std::string>> links;
    for (auto it = stdfs::recursive_directory_iterator(root);
         it != stdfs::recursive_directory_iterator(); ++it) {
        auto rel = stdfs::relative(it->path(), root).string();
        struct stat st {};
        ::lstat(it->path().c_str(), &st);
        if (S_ISSOCK(st.st_mode)) continue;
        std::ostringstream d;
        d << std::oct << "mode=" << st.st_mode << std::dec << " uid=" << st.st_uid
          << " gid=" << st.st_gid;
        if (S_ISLNK(st.st_mode)) {
            d << " link=" << stdfs::read_symlink(it->path()).string();
        } else {
            d << " xattrs=" << xattrs_of(it->path());
        }
        if (S_ISREG(st.st_mode)) {
            d << " mtime=" << st.st_mtim.tv_sec << " data=" << read_file(it->path());
            if (st.st_nlink > 1) links[{st.st_dev, st.st_ino}].push_back(rel);
        }
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
            d << " rdev=" << major(st.st_rdev) << ":" << minor(st.st_rdev);
        out[rel] = d.str();
    }
    // Hard links: every name of an inode records its group.
    // A group of one (an overlay's copy-up breaks a lower hard link) is no link at all.
    for (auto& [ino, names] : links) {
        if (names.size() < 2) continue;
        std::sort(names.begin(), names.end());
        std::string group;
        for (auto& n : names)
            group += n + ",";
        for (auto& n : names)
            out[n] += " links=" + group;
    }
    return out;
}

} // namespace gantry::testing
