// Cleanup support shared by the directory-based backends (native, overlayfs): which entries of
// `<root>/snapshots/` no record owns, and how to delete one safely.
#pragma once

#include "core/errors.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gantry::snapshots {

// Entries of `snapshots_dir` that are not the decimal id of a record in `ids`: directories of
// removed snapshots, `new-*` left by a crash during Prepare, `rm-*` left by a crash during Remove.
// Call it inside a write transaction so that no Prepare is building a `new-*` at the same time.
Result<std::vector<std::filesystem::path>>
unowned_entries(const std::filesystem::path& snapshots_dir,
                const std::map<std::uint64_t, std::string>& ids);

// Unmounts whatever is mounted at or below `path` (deepest first), then deletes the tree: never
// deletes through a mount into someone else's files.
Status remove_tree(const std::filesystem::path& path);

} // namespace gantry::snapshots
