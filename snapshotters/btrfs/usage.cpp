#include "snapshotters/btrfs/usage.hpp"

#include <cerrno>
#include <set>
#include <sys/stat.h>
#include <utility>

namespace gantry::snapshots::btrfs {

namespace fs = std::filesystem;

namespace {

bool same(const struct stat& a, const struct stat& b) {
    return a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mode == b.st_mode &&
           a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Walks `upper` without following symlinks; `counts(rel, st)` decides whether an entry counts.
template <typename Pred>
Result<Usage> walk(const fs::path& upper, Pred counts) {
    Usage u;
    std::set<std::pair<dev_t, ino_t>> seen;
    auto add = [&](const fs::path& rel, const struct stat& st) {
        if (!counts(rel, st)) return;
        if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.insert({st.st_dev, st.st_ino}).second)
            return;
        ++u.inodes;
        u.size += static_cast<std::int64_t>(st.st_blocks) * 512;
    };
    struct stat st {};
    if (::lstat(upper.c_str(), &st) < 0) return from_errno(errno, "stat " + upper.string());
    add(fs::path(), st);
    std::error_code ec;
    fs::recursive_directory_iterator it(upper, fs::directory_options::none, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        // Something removed by a running container while we walk is simply not counted.
        if (::lstat(it->path().c_str(), &st) < 0) continue;
        add(it->path().lexically_relative(upper), st);
    }
    if (ec) return from_errno(ec.value(), "walk " + upper.string());
    return u;
}

} // namespace

Result<Usage> diff_usage(const fs::path& lower, const fs::path& upper) {
    return walk(upper, [&](const fs::path& rel, const struct stat& st) {
        if (rel.empty()) return false; // the root exists in both by construction
        struct stat lst {};
        if (::lstat((lower / rel).c_str(), &lst) < 0) return true;
        return !same(lst, st);
    });
}

} // namespace gantry::snapshots::btrfs
