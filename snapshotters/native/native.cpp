// Layout: <root>/metadata.lmdb/ (core/snapshots/storage.hpp) and <root>/snapshots/<id>/; the
// crash-safe build is DirectorySnapshotter's. A new snapshot is a copy of its nearest parent. A
// View with a parent gets no directory of its own: it is a read-only bind of the parent, which is
// committed and so never changes.
#include "snapshotters/native/native.hpp"

#include "core/snapshots/directory_snapshotter.hpp"
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

class NativeSnapshotter final : public DirectorySnapshotter {
public:
    using DirectorySnapshotter::DirectorySnapshotter;

    // The directory goes with the record: a native snapshot is never another one's lower layer.
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

private:
    stdfs::path data_dir(std::uint64_t id) const override { return dir(id); }

    Mounts mounts_of(const storage::Snapshot& s) const override {
        bool own_dir = s.parent_ids.empty() || s.kind == Kind::active;
        auto source = own_dir ? dir(s.id) : dir(s.parent_ids.front());
        return {mount::Mount{
            "bind", source.string(), "", {s.kind == Kind::view ? "ro" : "rw", "rbind"}}};
    }

    bool needs_dir(const storage::Snapshot& s) const override {
        return s.kind == Kind::active || s.parent_ids.empty();
    }

    Status build(const storage::Snapshot& s, const stdfs::path& tmp) override {
        if (::chmod(tmp.c_str(), 0755) != 0) return from_errno(errno, "chmod " + tmp.string());
        if (!s.parent_ids.empty()) GANTRY_TRY(copy_tree(dir(s.parent_ids.front()), tmp));
        return ok_status();
    }
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
