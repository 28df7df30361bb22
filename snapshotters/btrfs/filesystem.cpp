#include "snapshotters/btrfs/filesystem.hpp"

#include "core/fs/atomic_file.hpp"

#include <cerrno>
#include <linux/magic.h>
#include <optional>
#include <sstream>
#include <sys/vfs.h>
#include <vector>

namespace gantry::snapshots::btrfs {

namespace fs = std::filesystem;

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
    auto oct = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
            out.push_back(
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
            i += 3;
            continue;
        }
        out.push_back(s[i]);
    }
    return out;
}

// Whether `mp` is `p` or one of its ancestors, component-wise (/a is not a prefix of /ab).
bool contains(const fs::path& mp, const fs::path& p) {
    auto m = mp.begin();
    auto q = p.begin();
    for (; m != mp.end(); ++m, ++q) {
        if (m->empty()) continue; // trailing separator
        if (q == p.end() || *m != *q) return false;
    }
    return true;
}

} // namespace

Result<bool> on_btrfs(const fs::path& path) {
    fs::path p = path;
    for (;;) {
        struct statfs st {};
        if (::statfs(p.c_str(), &st) == 0) return st.f_type == static_cast<long>(BTRFS_SUPER_MAGIC);
        if (errno != ENOENT || !p.has_relative_path())
            return from_errno(errno, "statfs " + p.string());
        p = p.parent_path();
    }
}

Result<MountEntry> mount_of(const fs::path& path, std::string_view text) {
    const fs::path p = path.lexically_normal();
    std::optional<MountEntry> best;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        // id parent maj:min root mount-point options [optional...] - fstype source superopts
        std::istringstream ls(line);
        std::vector<std::string> f;
        for (std::string w; ls >> w;)
            f.push_back(std::move(w));
        std::size_t dash = 6;
        while (dash < f.size() && f[dash] != "-")
            ++dash;
        if (f.size() < 5 || dash + 2 >= f.size()) continue;
        MountEntry e{unescape(f[4]), f[dash + 1], unescape(f[dash + 2])};
        if (!contains(e.mount_point, p)) continue;
        // Longer wins; on a tie the later line is the mount on top.
        if (!best || std::distance(e.mount_point.begin(), e.mount_point.end()) >=
                         std::distance(best->mount_point.begin(), best->mount_point.end()))
            best = std::move(e);
    }
    if (!best) return not_found("no mount holds " + p.string());
    return *best;
}

Result<MountEntry> mount_of(const fs::path& path) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    if (ec) return from_errno(ec.value(), "resolve " + path.string());
    GANTRY_ASSIGN_OR_RETURN(auto text, gantry::fs::read_file("/proc/self/mountinfo", 64 << 20));
    return mount_of(canonical, text);
}

} // namespace gantry::snapshots::btrfs
