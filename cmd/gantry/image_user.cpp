#include "cmd/gantry/image_user.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gantry::cli {
namespace {

// An /etc/passwd or /etc/group larger than this is not an account database but an attack.
constexpr std::size_t kMaxFileSize = 16u << 20;

std::string_view trim(std::string_view s) {
    const auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
    };
    while (!s.empty() && space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && space(s.back()))
        s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto at = s.find(sep);
        out.push_back(s.substr(0, at));
        if (at == std::string_view::npos) return out;
        s.remove_prefix(at + 1);
    }
}

// Go's strconv.Atoi: an optional sign and decimal digits that fit in 64 bits, else nothing.
std::optional<std::int64_t> atoi_go(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return negative ? -v : v;
}

// A user or group field that containerd takes as a number: 0..MaxInt32.
std::optional<std::uint32_t> as_id(std::string_view s) {
    const auto v = atoi_go(s);
    if (!v || *v < 0 || *v > INT32_MAX) return std::nullopt;
    return static_cast<std::uint32_t>(*v);
}

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    for (auto l : split(text, '\n'))
        if (auto t = trim(l); !t.empty()) out.push_back(t);
    return out;
}

Result<std::vector<PasswdEntry>> read_passwd(const ContainerRoot& root, bool& missing) {
    GANTRY_ASSIGN_OR_RETURN(auto text, root.read_file("/etc/passwd"));
    missing = !text.has_value();
    return text ? parse_passwd(*text) : std::vector<PasswdEntry>{};
}

Result<std::vector<GroupEntry>> read_group(const ContainerRoot& root, bool& missing) {
    GANTRY_ASSIGN_OR_RETURN(auto text, root.read_file("/etc/group"));
    missing = !text.has_value();
    return text ? parse_group(*text) : std::vector<GroupEntry>{};
}

void ensure_primary_gid(ProcessUser& u) {
    if (std::find(u.additional_gids.begin(), u.additional_gids.end(), u.gid) ==
        u.additional_gids.end())
        u.additional_gids.insert(u.additional_gids.begin(), u.gid);
}

Result<PasswdEntry> user_by_name(const ContainerRoot& root, std::string_view name) {
    bool missing = false;
    GANTRY_ASSIGN_OR_RETURN(auto users, read_passwd(root, missing));
    if (missing) return not_found("user " + std::string(name) + ": the image has no /etc/passwd");
    for (auto& u : users)
        if (u.name == name) return std::move(u);
    return not_found("user " + std::string(name) + ": no such user in the image's /etc/passwd");
}

Result<std::uint32_t> gid_by_name(const ContainerRoot& root, std::string_view name) {
    bool missing = false;
    GANTRY_ASSIGN_OR_RETURN(auto groups, read_group(root, missing));
    if (missing) return not_found("group " + std::string(name) + ": the image has no /etc/group");
    for (const auto& g : groups)
        if (g.name == name) return static_cast<std::uint32_t>(g.gid);
    return not_found("group " + std::string(name) + ": no such group in the image's /etc/group");
}

} // namespace

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
    std::vector<PasswdEntry> out;
    for (const auto line : lines(text)) {
        const auto f = split(line, ':');
        PasswdEntry e;
        e.name = std::string(f[0]);
        if (f.size() > 2) e.uid = atoi_go(f[2]).value_or(0);
        if (f.size() > 3) e.gid = atoi_go(f[3]).value_or(0);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
    std::vector<GroupEntry> out;
    for (const auto line : lines(text)) {
        if (line.front() == '#') continue;
        const auto f = split(line, ':');
        GroupEntry e;
        e.name = std::string(f[0]);
        if (f.size() > 2) e.gid = atoi_go(f[2]).value_or(0);
        if (f.size() > 3 && !f[3].empty())
            for (const auto m : split(f[3], ','))
                e.members.emplace_back(m);
        out.push_back(std::move(e));
    }
    return out;
}

Result<ContainerRoot> ContainerRoot::open(const std::filesystem::path& dir) {
    fs::UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return from_errno(errno, "open root " + dir.string());
    return ContainerRoot(std::move(fd));
}

Result<std::optional<std::string>> ContainerRoot::read_file(std::string_view path) const {
    open_how how{};
    // O_NONBLOCK: opening a FIFO planted in the image must not wait for a writer.
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    const std::string rel(path);
    long r;
    do
        r = ::syscall(SYS_openat2, fd_.get(), rel.c_str(), &how, sizeof how);
    while (r < 0 && (errno == EAGAIN || errno == EINTR));
    if (r < 0) {
        if (errno == ENOENT) return std::optional<std::string>();
        return invalid_argument("image file " + rel + ": " + std::strerror(errno));
    }
    fs::UniqueFd fd(static_cast<int>(r));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return from_errno(errno, "stat image file " + rel);
    if (!S_ISREG(st.st_mode))
        return invalid_argument("image file " + rel + " is not a regular file");
    if (static_cast<std::size_t>(st.st_size) > kMaxFileSize)
        return invalid_argument("image file " + rel + " is larger than 16 MiB");
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return from_errno(errno, "read image file " + rel);
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > kMaxFileSize)
            return invalid_argument("image file " + rel + " is larger than 16 MiB");
    }
    return std::optional<std::string>(std::move(out));
}

Result<ProcessUser> resolve_user(const ContainerRoot& root, std::string_view user) {
    const auto parts = split(user, ':');
    ProcessUser out;
    if (parts.size() == 1) {
        if (const auto uid = as_id(parts[0])) {
            // WithUserID: the uid's passwd entry gives the gid; no entry (or no file) means 0.
            bool missing = false;
            GANTRY_ASSIGN_OR_RETURN(auto users, read_passwd(root, missing));
            out.uid = *uid;
            for (const auto& u : users)
                if (u.uid == *uid) {
                    out.gid = static_cast<std::uint32_t>(u.gid);
                    break;
                }
        } else {
            GANTRY_ASSIGN_OR_RETURN(const auto u, user_by_name(root, parts[0]));
            out.uid = static_cast<std::uint32_t>(u.uid);
            out.gid = static_cast<std::uint32_t>(u.gid);
        }
    } else if (parts.size() == 2) {
        // Each side is a number or a name; only names are looked up, and a name's own primary
        // group is not used: "name:group" takes the group's gid, "name" alone would take its own.
        if (const auto uid = as_id(parts[0])) {
            out.uid = *uid;
        } else {
            GANTRY_ASSIGN_OR_RETURN(const auto u, user_by_name(root, parts[0]));
            out.uid = static_cast<std::uint32_t>(u.uid);
        }
        if (const auto gid = as_id(parts[1])) {
            out.gid = *gid;
        } else {
            GANTRY_ASSIGN_OR_RETURN(out.gid, gid_by_name(root, parts[1]));
        }
    } else {
        return invalid_argument("invalid USER value " + std::string(user));
    }
    ensure_primary_gid(out);
    return out;
}

Status add_supplementary_groups(const ContainerRoot& root, std::string_view user,
                                ProcessUser& out) {
    out.additional_gids.clear();
    std::string name(user);
    if (const auto uid = atoi_go(user)) {
        bool missing = false;
        GANTRY_ASSIGN_OR_RETURN(auto users, read_passwd(root, missing));
        const auto it = std::find_if(users.begin(), users.end(),
                                     [&](const PasswdEntry& u) { return u.uid == *uid; });
        if (it == users.end()) {
            ensure_primary_gid(out);
            return ok_status();
        }
        name = it->name;
    }
    bool missing = false;
    GANTRY_ASSIGN_OR_RETURN(auto groups, read_group(root, missing));
    for (const auto& g : groups) {
        if (g.name == name) continue; // the user's own group is its primary one, not extra
        if (std::find(g.members.begin(), g.members.end(), name) != g.members.end())
            out.additional_gids.push_back(static_cast<std::uint32_t>(g.gid));
    }
    ensure_primary_gid(out);
    return ok_status();
}

Result<ProcessUser> image_process_user(const ContainerRoot& root, std::string_view config_user) {
    if (config_user.empty()) {
        ProcessUser root_user;
        GANTRY_TRY(add_supplementary_groups(root, "root", root_user));
        return root_user;
    }
    GANTRY_ASSIGN_OR_RETURN(auto u, resolve_user(root, config_user));
    GANTRY_TRY(add_supplementary_groups(root, std::to_string(u.uid), u));
    return u;
}

} // namespace gantry::cli
