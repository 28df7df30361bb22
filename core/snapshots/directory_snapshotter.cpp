#include "core/snapshots/directory_snapshotter.hpp"

#include "core/snapshots/disk_usage.hpp"
#include "core/snapshots/orphans.hpp"

#include <cerrno>
#include <cstdlib>
#include <map>
#include <sys/stat.h>

namespace gantry::snapshots {

namespace stdfs = std::filesystem;

DirectorySnapshotter::DirectorySnapshotter(stdfs::path root, std::shared_ptr<storage::MetaStore> ms)
    : root_(std::move(root)), snapshots_(root_ / "snapshots"), ms_(std::move(ms)) {}

Result<Info> DirectorySnapshotter::stat(std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
    GANTRY_ASSIGN_OR_RETURN(auto r, storage::get_info(tx, key));
    decorate(r.id, r.info);
    return std::move(r.info);
}

Result<Info> DirectorySnapshotter::update(const Info& info, std::span<const std::string> paths) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
    GANTRY_ASSIGN_OR_RETURN(auto out, storage::update_info(tx, info, paths));
    if (decorates()) {
        GANTRY_ASSIGN_OR_RETURN(auto r, storage::get_info(tx, info.name));
        decorate(r.id, out);
    }
    GANTRY_TRY(tx.commit());
    return out;
}

Result<Usage> DirectorySnapshotter::usage(std::string_view key) {
    std::uint64_t id = 0;
    {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
        GANTRY_ASSIGN_OR_RETURN(auto r, storage::get_info(tx, key));
        if (r.info.kind != Kind::active) return r.usage;
        id = r.id;
    }
    // Walked outside the transaction: a large directory must not pin a reader.
    return disk_usage(data_dir(id));
}

Result<Mounts> DirectorySnapshotter::mounts(std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
    GANTRY_ASSIGN_OR_RETURN(auto s, storage::get_active(tx, key));
    return mounts_of(s);
}

Result<Mounts> DirectorySnapshotter::prepare(std::string_view key, std::string_view parent,
                                             const Labels& labels) {
    return create(Kind::active, key, parent, labels);
}

Result<Mounts> DirectorySnapshotter::view(std::string_view key, std::string_view parent,
                                          const Labels& labels) {
    return create(Kind::view, key, parent, labels);
}

Status DirectorySnapshotter::commit(std::string_view name, std::string_view key,
                                    const Labels& labels) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
    GANTRY_ASSIGN_OR_RETURN(auto r, storage::get_info(tx, key));
    Usage u;
    // Only an active snapshot can be committed; storage reports the others.
    if (r.info.kind == Kind::active) {
        GANTRY_ASSIGN_OR_RETURN(u, disk_usage(data_dir(r.id)));
    }
    GANTRY_TRY(storage::commit_active(tx, key, name, u, labels));
    return tx.commit();
}

Status DirectorySnapshotter::remove(std::string_view key) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
    GANTRY_TRY(storage::remove(tx, key));
    return tx.commit();
}

Status DirectorySnapshotter::walk(const filters::Filter* filter, const WalkFn& fn) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
    if (!decorates()) return storage::walk(tx, filter, fn);
    // Decorated before filtering, so filters on the added labels work.
    GANTRY_ASSIGN_OR_RETURN(auto ids, storage::id_map(tx));
    std::map<std::string, std::uint64_t, std::less<>> by_key;
    for (const auto& [id, k] : ids)
        by_key.emplace(k, id);
    std::vector<Info> infos;
    GANTRY_TRY(storage::walk(tx, nullptr, [&](const Info& i) {
        infos.push_back(i);
        return ok_status();
    }));
    for (auto& i : infos) {
        if (auto it = by_key.find(i.name); it != by_key.end()) decorate(it->second, i);
        if (storage::matches(filter, i)) GANTRY_TRY(fn(i));
    }
    return ok_status();
}

Status DirectorySnapshotter::cleanup() {
    std::vector<stdfs::path> orphans;
    {
        // The write lock keeps Prepare from building a new-* while we list.
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto ids, storage::id_map(tx));
        GANTRY_ASSIGN_OR_RETURN(orphans, unowned_entries(snapshots_, ids));
    }
    for (const auto& p : orphans)
        GANTRY_TRY(remove_tree(p));
    return ok_status();
}

Result<Mounts> DirectorySnapshotter::create(Kind kind, std::string_view key,
                                            std::string_view parent, const Labels& labels) {
    GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
    GANTRY_ASSIGN_OR_RETURN(auto s, storage::create(tx, kind, key, parent, labels));
    if (!needs_dir(s)) {
        GANTRY_TRY(tx.commit());
        return mounts_of(s);
    }
    std::string td = (snapshots_ / "new-XXXXXX").string();
    if (::mkdtemp(td.data()) == nullptr)
        return from_errno(errno, "create directory under " + snapshots_.string());
    auto built = [&]() -> Status {
        GANTRY_TRY(build(s, td));
        if (::rename(td.c_str(), dir(s.id).c_str()) != 0) return from_errno(errno, "rename " + td);
        return ok_status();
    }();
    if (!built.ok()) {
        (void)remove_tree(td);
        return std::move(built).error().wrap("snapshot " + std::string(key));
    }
    if (auto st = tx.commit(); !st.ok()) {
        (void)remove_tree(dir(s.id));
        return st.error();
    }
    return mounts_of(s);
}

} // namespace gantry::snapshots
