#include "snapshotters/btrfs/btrfs_snapshotter.hpp"

#include "core/fs/atomic_file.hpp"
#include "core/log.hpp"
#include "core/snapshots/disk_usage.hpp"
#include "core/snapshots/orphans.hpp"
#include "snapshotters/btrfs/filesystem.hpp"
#include "snapshotters/btrfs/subvolume.hpp"
#include "snapshotters/btrfs/usage.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <vector>

namespace gantry::snapshots::btrfs {

namespace fs = std::filesystem;
using storage::Removed;

namespace {

constexpr std::string_view kNewPrefix = "new-";
// cleanup() moves unowned subvolumes aside under this prefix before deleting them.
constexpr std::string_view kRemovePrefix = "rm-";

Result<std::string> temp_name(std::string_view prefix) {
    GANTRY_ASSIGN_OR_RETURN(auto bytes, gantry::fs::random_bytes(8));
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(prefix);
    for (unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

// rename(2) that never replaces: a taken target is an error, not a silent overwrite.
Status rename_noreplace(const fs::path& from, const fs::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) < 0)
        return from_errno(errno, "rename " + from.string() + " to " + to.string());
    return ok_status();
}

void delete_quietly(const fs::path& p) {
    if (auto st = delete_subvolume(p); !st.ok() && !st.error().is(Errc::NotFound))
        log::warn("btrfs: delete subvolume {}: {}", p.string(), st.error().message());
}

// Deletes `p`, a subvolume or (never made by us, but found in our root) any other tree; a tree is
// never deleted through a mount.
Status remove_any(const fs::path& p) {
    auto subvol = is_subvolume(p);
    if (!subvol.ok()) return std::move(subvol).error();
    if (*subvol) return delete_subvolume(p);
    return snapshots::remove_tree(p);
}

// Moves the freshly built subvolume `tmp` to `final`. A subvolume already at `final` is an orphan
// of a crash (its id was just handed to us inside the write transaction, so no record owns it).
Status place(const fs::path& tmp, const fs::path& final) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(final, ec))) {
        log::warn("btrfs: removing orphan subvolume {}", final.string());
        GANTRY_TRY(remove_any(final));
    }
    return rename_noreplace(tmp, final);
}

} // namespace

Result<std::shared_ptr<BtrfsSnapshotter>> BtrfsSnapshotter::open(const fs::path& root) {
    GANTRY_ASSIGN_OR_RETURN(bool btrfs, on_btrfs(root));
    if (!btrfs) return failed_precondition(root.string() + " is not on a btrfs filesystem");
    GANTRY_TRY(gantry::fs::mkdir_all(root.string(), 0700));
    // The root holds every container's writable layer: only root may look inside.
    if (::chmod(root.c_str(), 0700) < 0) return from_errno(errno, "chmod " + root.string());
    for (const char* d : {"active", "view", "snapshots"})
        if (::mkdir((root / d).c_str(), 0755) < 0 && errno != EEXIST)
            return from_errno(errno, "mkdir " + (root / d).string());
    GANTRY_ASSIGN_OR_RETURN(auto mnt, mount_of(root));
    if (mnt.fs_type != "btrfs")
        return failed_precondition(root.string() + " is on a " + mnt.fs_type + " mount, not btrfs");
    GANTRY_ASSIGN_OR_RETURN(auto ms, storage::MetaStore::open(root));
    return std::shared_ptr<BtrfsSnapshotter>(
        new BtrfsSnapshotter(root, std::move(mnt.source), std::move(ms)));
}

fs::path BtrfsSnapshotter::dir_of(Kind kind) const {
    switch (kind) {
    case Kind::active:
        return root_ / "active";
    case Kind::view:
        return root_ / "view";
    default:
        return root_ / "snapshots";
    }
}

fs::path BtrfsSnapshotter::path_of(Kind kind, std::uint64_t id) const {
    return dir_of(kind) / std::to_string(id);
}

Result<Mounts> BtrfsSnapshotter::mounts_for(Kind kind, std::uint64_t id) const {
    // The id is read back from the subvolume rather than remembered: it is the kernel's, and
    // changes if the filesystem was restored with send/receive.
    GANTRY_ASSIGN_OR_RETURN(auto subvol, subvolume_id(path_of(kind, id)));
    mount::Mount m{.type = "btrfs",
                   .source = device_,
                   .target = {},
                   .options = {"subvolid=" + std::to_string(subvol)}};
    if (kind != Kind::active) m.options.emplace_back("ro");
    return Mounts{std::move(m)};
}

Result<Info> BtrfsSnapshotter::stat(std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
    GANTRY_ASSIGN_OR_RETURN(auto rec, storage::get_info(tx, key));
    return std::move(rec.info);
}

Result<Info> BtrfsSnapshotter::update(const Info& info, std::span<const std::string> paths) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
    GANTRY_ASSIGN_OR_RETURN(auto out, storage::update_info(tx, info, paths));
    GANTRY_TRY(tx.commit());
    return out;
}

Result<Usage> BtrfsSnapshotter::active_usage(std::string_view key) {
    std::uint64_t id = 0, parent_id = 0;
    {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
        GANTRY_ASSIGN_OR_RETURN(auto rec, storage::get_info(tx, key));
        if (rec.info.kind != Kind::active) return rec.usage;
        id = rec.id;
        if (!rec.info.parent.empty()) {
            GANTRY_ASSIGN_OR_RETURN(auto parent, storage::get_info(tx, rec.info.parent));
            parent_id = parent.id;
        }
    }
    // Walked outside the transaction: a large tree must not hold up other readers' snapshots.
    if (parent_id == 0) return snapshots::disk_usage(path_of(Kind::active, id));
    return diff_usage(path_of(Kind::committed, parent_id), path_of(Kind::active, id));
}

Result<Usage> BtrfsSnapshotter::usage(std::string_view key) {
    return active_usage(key);
}

Result<Mounts> BtrfsSnapshotter::mounts(std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
    GANTRY_ASSIGN_OR_RETURN(auto s, storage::get_active(tx, key));
    return mounts_for(s.kind, s.id);
}

Result<Mounts> BtrfsSnapshotter::prepare(std::string_view key, std::string_view parent,
                                         const Labels& labels) {
    return make(Kind::active, key, parent, labels);
}

Result<Mounts> BtrfsSnapshotter::view(std::string_view key, std::string_view parent,
                                      const Labels& labels) {
    return make(Kind::view, key, parent, labels);
}

Result<Mounts> BtrfsSnapshotter::make(Kind kind, std::string_view key, std::string_view parent,
                                      const Labels& labels) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
    GANTRY_ASSIGN_OR_RETURN(auto s, storage::create(tx, kind, key, parent, labels));

    GANTRY_ASSIGN_OR_RETURN(auto name, temp_name(kNewPrefix));
    const fs::path tmp = dir_of(kind) / name;
    const fs::path final = path_of(kind, s.id);
    if (s.parent_ids.empty()) {
        // No parent: an empty subvolume (for a VIEW too; its mounts say `ro`, as containerd's).
        GANTRY_TRY(create_subvolume(tmp));
    } else {
        GANTRY_TRY(snapshot_subvolume(path_of(Kind::committed, s.parent_ids.front()), tmp,
                                      kind == Kind::view));
    }
    if (auto st = place(tmp, final); !st.ok()) {
        delete_quietly(tmp);
        return std::move(st).error();
    }
    if (auto st = tx.commit(); !st.ok()) {
        delete_quietly(final);
        return std::move(st).error();
    }
    return mounts_for(kind, s.id);
}

Status BtrfsSnapshotter::commit(std::string_view name, std::string_view key, const Labels& labels) {
    // Usage first, outside the write transaction (as containerd): the walk may be long. A key
    // that is missing or not active fails here or in commit_active with the right class.
    GANTRY_ASSIGN_OR_RETURN(auto usage, active_usage(key));

    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
    GANTRY_ASSIGN_OR_RETURN(auto id, storage::commit_active(tx, key, name, usage, labels));
    const fs::path source = path_of(Kind::active, id);
    GANTRY_ASSIGN_OR_RETURN(auto tmp_name, temp_name(kNewPrefix));
    const fs::path tmp = dir_of(Kind::committed) / tmp_name;
    const fs::path final = path_of(Kind::committed, id);
    GANTRY_TRY(snapshot_subvolume(source, tmp, true));
    if (auto st = place(tmp, final); !st.ok()) {
        delete_quietly(tmp);
        return st;
    }
    if (auto st = tx.commit(); !st.ok()) {
        delete_quietly(final);
        return st;
    }
    // The active subvolume is no longer owned by any record; if this fails (or we crash first),
    // cleanup() deletes it.
    delete_quietly(source);
    return ok_status();
}

Status BtrfsSnapshotter::remove(std::string_view key) {
    Removed removed;
    {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(removed, storage::remove(tx, key));
        GANTRY_TRY(tx.commit());
    }
    // The record is gone first: the subvolume is now garbage that nothing can reach. Deleting it
    // before the commit would let a crash in between leave a record without its data. Ids are
    // never handed out twice once committed, so nothing can claim <dir>/<id> meanwhile; if this
    // fails (or we crash), cleanup() deletes it.
    delete_quietly(path_of(removed.kind, removed.id));
    return ok_status();
}

Status BtrfsSnapshotter::walk(const filters::Filter* filter, const WalkFn& fn) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
    return storage::walk(tx, filter, fn);
}

Status BtrfsSnapshotter::cleanup() {
    // Under the write transaction nothing is being built (every new-* belongs to a writer), so
    // whatever no record owns is garbage: move it out of the way under an rm- name, then delete
    // after the transaction ends so that deleting many subvolumes does not stall writers.
    std::vector<fs::path> doomed;
    {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto ids, storage::id_map(tx));
        std::set<fs::path> owned;
        for (const auto& [id, key] : ids) {
            GANTRY_ASSIGN_OR_RETURN(auto rec, storage::get_info(tx, key));
            owned.insert(path_of(rec.info.kind, id));
        }
        for (Kind k : {Kind::active, Kind::view, Kind::committed}) {
            std::error_code ec;
            for (fs::directory_iterator it(dir_of(k), ec), end; !ec && it != end;
                 it.increment(ec)) {
                const fs::path p = it->path();
                if (owned.contains(p)) continue;
                const std::string name = p.filename().string();
                if (name.starts_with(kRemovePrefix)) {
                    doomed.push_back(p);
                    continue;
                }
                GANTRY_ASSIGN_OR_RETURN(auto rm, temp_name(kRemovePrefix));
                const fs::path to = dir_of(k) / rm;
                GANTRY_TRY(rename_noreplace(p, to));
                doomed.push_back(to);
            }
            if (ec) return from_errno(ec.value(), "list " + dir_of(k).string());
        }
        // Nothing was written: the transaction only held the writer lock.
    }
    for (const auto& p : doomed) {
        // A concurrent remove() may have deleted its own subvolume meanwhile.
        if (auto st = remove_any(p); !st.ok() && !st.error().is(Errc::NotFound)) return st;
    }
    return ok_status();
}

} // namespace gantry::snapshots::btrfs
