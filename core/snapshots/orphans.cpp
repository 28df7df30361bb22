#include "core/snapshots/orphans.hpp"

#include "core/mount/mount.hpp"

#include <charconv>
#include <system_error>

namespace gantry::snapshots {

Result<std::vector<std::filesystem::path>>
unowned_entries(const std::filesystem::path& snapshots_dir,
                const std::map<std::uint64_t, std::string>& ids) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    std::filesystem::directory_iterator it(snapshots_dir, ec), end;
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory) return out;
        return from_errno(ec.value(), "list " + snapshots_dir.string());
    }
    for (; it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        std::uint64_t id = 0;
        auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), id);
        bool owned = err == std::errc() && p == name.data() + name.size() && name[0] != '0' &&
                     ids.contains(id);
        if (!owned) out.push_back(it->path());
    }
    if (ec) return from_errno(ec.value(), "list " + snapshots_dir.string());
    return out;
}

Status remove_tree(const std::filesystem::path& path) {
    GANTRY_ASSIGN_OR_RETURN(auto mps, mount::mount_points_under(path));
    for (const auto& mp : mps)
        GANTRY_TRY(mount::unmount_all(mp));
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) return from_errno(ec.value(), "remove " + path.string());
    return ok_status();
}

} // namespace gantry::snapshots
