// Layout: <root>/metadata.lmdb/ (core/snapshots/storage.hpp) and <root>/snapshots/<id>/.
//
// Prepare builds `snapshots/new-XXXXXX` (a copy of the nearest parent), renames it to its id and
// only then commits the record, all inside one write transaction: a crash leaves at worst an
// unowned directory, which cleanup() removes. A View with a parent gets no directory of its own:
// it is a read-only bind of the parent, which is committed and so never changes.
#include "snapshotters/native/native.hpp"

#include "core/snapshots/disk_usage.hpp"
#include "core/snapshots/orphans.hpp"
#include "core/snapshots/storage.hpp"
#include "snapshotters/native/copy.hpp"

#include <cerrno>
#include <cstdlib>
#include <sys/stat.h>
#include <system_error>

namespace gantry::snapshots::native {

namespace {

namespace stdfs = std::filesystem;

class NativeSnapshotter final : public Snapshotter {
public:
    NativeSnapshotter(stdfs::path root, std::shared_ptr<storage::MetaStore> ms)
        : root_(std::move(root)), snapshots_(root_ / "snapshots"), ms_(std::move(ms)) {}

    Result<Info> stat(std::string_view key) override {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
        GANTRY_ASSIGN_OR_RETURN(auto r, storage::get_info(tx, key));
        return std::move(r.info);
    }

    Result<Info> update(const Info& info, std::span<const std::string> paths) override {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto out, storage::update_info(tx, info, paths));
        GANTRY_TRY(tx.commit());
        return out;
    }

    Result<Usage> usage(std::string_view key) override {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
        GANTRY_ASSIGN_OR_RETURN(auto r, storage::get_info(tx, key));
        if (r.info.kind != Kind::active) return r.usage;
        return disk_usage(dir(r.id));
    }

    Result<Mounts> mounts(std::string_view key) override {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
        GANTRY_ASSIGN_OR_RETURN(auto s, storage::get_active(tx, key));
        return mounts_of(s);
    }

    Result<Mounts> prepare(std::string_view key, std::string_view parent,
                           const Labels& labels) override {
        return create(Kind::active, key, parent, labels);
    }

    Result<Mounts> view(std::string_view key, std::string_view parent,
                        const Labels& labels) override {
        return create(Kind::view, key, parent, labels);
    }

    Status commit(std::string_view name, std::string_view key, const Labels& labels) override {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto r, storage::get_info(tx, key));
        Usage u;
        // Only an active snapshot can be committed; storage reports the others.
        if (r.info.kind == Kind::active) {
            GANTRY_ASSIGN_OR_RETURN(u, disk_usage(dir(r.id)));
        }
        GANTRY_TRY(storage::commit_active(tx, key, name, u, labels));
        return tx.commit();
    }

    Status remove(std::string_view key) override {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto removed, storage::remove(tx, key));
        // Renamed first so that the record and the directory go together: if the commit fails,
        // the name comes back; if we crash after it, cleanup() finds `rm-<id>`.
        auto path = dir(removed.id);
        auto renamed = snapshots_ / ("rm-" + std::to_string(removed.id));
        bool moved = ::rename(path.c_str(), renamed.c_str()) == 0;
        if (!moved && errno != ENOENT) return from_errno(errno, "rename " + path.string());
        if (auto st = tx.commit(); !st.ok()) {
            if (moved) ::rename(renamed.c_str(), path.c_str());
            return st;
        }
        if (moved) (void)remove_tree(renamed); // a failure here is cleanup()'s to retry
        return ok_status();
    }

    Status walk(const filters::Filter* filter, const WalkFn& fn) override {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
        return storage::walk(tx, filter, fn);
    }

    Status cleanup() override {
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

private:
    stdfs::path dir(std::uint64_t id) const { return snapshots_ / std::to_string(id); }

    Mounts mounts_of(const storage::Snapshot& s) const {
        bool own_dir = s.parent_ids.empty() || s.kind == Kind::active;
        auto source = own_dir ? dir(s.id) : dir(s.parent_ids.front());
        return {mount::Mount{
            "bind", source.string(), "", {s.kind == Kind::view ? "ro" : "rw", "rbind"}}};
    }

    Result<Mounts> create(Kind kind, std::string_view key, std::string_view parent,
                          const Labels& labels) {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto s, storage::create(tx, kind, key, parent, labels));
        if (kind == Kind::active || s.parent_ids.empty()) {
            std::string td = (snapshots_ / "new-XXXXXX").string();
            if (::mkdtemp(td.data()) == nullptr)
                return from_errno(errno, "create directory under " + snapshots_.string());
            auto built = [&]() -> Status {
                if (::chmod(td.c_str(), 0755) != 0) return from_errno(errno, "chmod " + td);
                if (!s.parent_ids.empty()) GANTRY_TRY(copy_tree(dir(s.parent_ids.front()), td));
                if (::rename(td.c_str(), dir(s.id).c_str()) != 0)
                    return from_errno(errno, "rename " + td);
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
        } else {
            GANTRY_TRY(tx.commit());
        }
        return mounts_of(s);
    }

    stdfs::path root_;
    stdfs::path snapshots_;
    std::shared_ptr<storage::MetaStore> ms_;
};

} // namespace

Result<std::shared_ptr<Snapshotter>> open(const stdfs::path& root) {
    std::error_code ec;
    stdfs::create_directories(root / "snapshots", ec);
    if (ec) return from_errno(ec.value(), "create " + (root / "snapshots").string());
    ::chmod(root.c_str(), 0700);
    GANTRY_ASSIGN_OR_RETURN(auto ms, storage::MetaStore::open(root));
    return std::shared_ptr<Snapshotter>(std::make_shared<NativeSnapshotter>(root, std::move(ms)));
}

} // namespace gantry::snapshots::native
