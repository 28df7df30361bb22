// The process user of a container, resolved from its root filesystem's /etc/passwd and
// /etc/group the way containerd's client does it (oci.WithUser, WithUserID, WithUsername,
// WithAdditionalGIDs, ensureAdditionalGids), so that `gantry run` and `gantry tasks exec --user`
// give a process the same uid, gid and groups as `ctr run` / `ctr task exec --user`.
//
// The root is an image's filesystem, i.e. untrusted: the two files are opened with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from a pinned root fd, so an
// absolute or ".." symlink such as /etc/passwd -> /etc/passwd resolves inside the root, never to
// the host's file, and only regular files are read (a FIFO or device cannot block or flood us).
#pragma once

#include "core/errors.hpp"
#include "core/fs/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::cli {

// One /etc/passwd line: name:password:uid:gid:gecos:home:shell (only what is used here).
struct PasswdEntry {
    std::string name;
    std::int64_t uid = 0;
    std::int64_t gid = 0;
};
// One /etc/group line: name:password:gid:member,member,...
struct GroupEntry {
    std::string name;
    std::int64_t gid = 0;
    std::vector<std::string> members;
};

// Parsed like runc's libcontainer/user: lines are trimmed, blank lines skipped (and comment
// lines in /etc/group), missing fields left empty, numbers that do not parse become 0.
std::vector<PasswdEntry> parse_passwd(std::string_view text);
std::vector<GroupEntry> parse_group(std::string_view text);

// The OCI process.user fields.
struct ProcessUser {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> additional_gids;
};

// A directory that is the root of a container's filesystem, pinned by an O_PATH fd.
class ContainerRoot {
public:
    static Result<ContainerRoot> open(const std::filesystem::path& dir);

    // The content of `path` (absolute, inside the root) if it is a regular file; nullopt when
    // it does not exist. A symlink loop, a magic link or a non-regular file is an error.
    Result<std::optional<std::string>> read_file(std::string_view path) const;

private:
    explicit ContainerRoot(fs::UniqueFd fd) : fd_(std::move(fd)) {}
    fs::UniqueFd fd_;
};

// oci.WithUser(user): "uid", "name", "uid:gid", "name:group", "uid:group", "name:gid". A numeric
// uid that /etc/passwd lacks keeps gid 0; a name that is not there is an error (NotFound), as
// is a missing /etc/passwd for a name; more than one ':' is InvalidArgument. additional_gids is
// then [gid] (ensureAdditionalGids).
Result<ProcessUser> resolve_user(const ContainerRoot& root, std::string_view user);

// oci.WithAdditionalGIDs(user): adds the gids of the /etc/group entries that list the user (by
// name; a numeric `user` is looked up in /etc/passwd first) as a member, skipping the group named
// like the user; the primary gid stays first. Missing files or an unknown uid add nothing.
Status add_supplementary_groups(const ContainerRoot& root, std::string_view user, ProcessUser& out);

// The user an image's config asks for (WithImageConfig): `config_user` resolved with
// resolve_user and its groups added; an empty `config_user` means root with root's groups.
Result<ProcessUser> image_process_user(const ContainerRoot& root, std::string_view config_user);

} // namespace gantry::cli
