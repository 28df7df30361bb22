// See overlay.hpp. A snapshot's directory holds `fs` (the upper dir) and, while active, `work`;
// the crash-safe build is DirectorySnapshotter's.
#include "snapshotters/overlay/overlay.hpp"

#include "core/fs/unique_fd.hpp"
#include "core/mount/mount.hpp"
#include "core/snapshots/directory_snapshotter.hpp"
#include "core/snapshots/orphans.hpp"
#include "core/snapshots/storage.hpp"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace gantry::snapshots::overlay {

namespace {

namespace stdfs = std::filesystem;

// `index=off` keeps overlay from tying an upper dir to one set of lowers (layers are shared by
// many mounts); only passed when the kernel has the parameter at all.
bool kernel_has_index_param() {
    return ::access("/sys/module/overlay/parameters/index", F_OK) == 0;
}

// Inside a user namespace overlay may only use user.* xattrs ("userxattr"); in the initial
// namespace (uid_map is the identity over the whole range) trusted.* works and is what
// existing layers use.
bool needs_userxattr() {
    std::ifstream in("/proc/self/uid_map");
    long long inside = -1, outside = -1, count = -1;
    if (!(in >> inside >> outside >> count)) return false;
    return !(inside == 0 && outside == 0 && count == 4294967295LL);
}

class OverlaySnapshotter final : public DirectorySnapshotter {
public:
    OverlaySnapshotter(stdfs::path root, std::shared_ptr<storage::MetaStore> ms, Options opts)
        : DirectorySnapshotter(std::move(root), std::move(ms)), opts_(opts),
          index_off_(kernel_has_index_param()), userxattr_(needs_userxattr()) {}

    // Only the record goes (the base's remove): the directory may still be a lower layer of a
    // mounted container that outlives the record, so cleanup() (run by the collector) deletes it.

private:
    stdfs::path upper(std::uint64_t id) const { return dir(id) / "fs"; }
    stdfs::path work(std::uint64_t id) const { return dir(id) / "work"; }

    stdfs::path data_dir(std::uint64_t id) const override { return upper(id); }
    bool decorates() const override { return opts_.upperdir_label; }
    void decorate(std::uint64_t id, Info& info) const override {
        if (opts_.upperdir_label) info.labels[std::string(kUpperdirLabel)] = upper(id).string();
    }
    bool needs_dir(const storage::Snapshot&) const override { return true; }

    Mounts mounts_of(const storage::Snapshot& s) const override {
        if (s.parent_ids.empty()) {
            return {mount::Mount{
                "bind", upper(s.id).string(), "", {s.kind == Kind::view ? "ro" : "rw", "rbind"}}};
        }
        if (s.kind != Kind::active && s.parent_ids.size() == 1)
            return {
                mount::Mount{"bind", upper(s.parent_ids.front()).string(), "", {"ro", "rbind"}}};
        std::vector<std::string> options;
        if (index_off_) options.emplace_back("index=off");
        if (userxattr_) options.emplace_back("userxattr");
        if (s.kind == Kind::active) {
            options.push_back("workdir=" + work(s.id).string());
            options.push_back("upperdir=" + upper(s.id).string());
        }
        std::string lower = "lowerdir=";
        for (std::size_t i = 0; i < s.parent_ids.size(); ++i) {
            if (i) lower += ':';
            lower += upper(s.parent_ids[i]).string();
        }
        options.push_back(std::move(lower));
        return {mount::Mount{"overlay", "overlay", "", std::move(options)}};
    }

    Status build(const storage::Snapshot& s, const stdfs::path& tmp) override {
        auto fs_dir = tmp / "fs";
        if (::mkdir(fs_dir.c_str(), 0755) != 0) return from_errno(errno, "mkdir " + tmp.string());
        // mkdir's mode is filtered by the umask; the layout wants exactly these.
        if (::chmod(fs_dir.c_str(), 0755) != 0) return from_errno(errno, "chmod " + tmp.string());
        if (s.kind == Kind::active) {
            auto w = tmp / "work";
            if (::mkdir(w.c_str(), 0711) != 0 || ::chmod(w.c_str(), 0711) != 0)
                return from_errno(errno, "mkdir " + w.string());
        }
        if (!s.parent_ids.empty()) {
            // A child's root belongs to whoever owns the parent's (e.g. a remapped root).
            struct ::stat pst {};
            auto p = upper(s.parent_ids.front());
            if (::stat(p.c_str(), &pst) != 0) return from_errno(errno, "stat parent " + p.string());
            if (::lchown(fs_dir.c_str(), pst.st_uid, pst.st_gid) != 0)
                return from_errno(errno, "chown " + fs_dir.string());
        }
        return ok_status();
    }

    Options opts_;
    bool index_off_;
    bool userxattr_;
};

// containerd's fs.SupportsDType: readdir must report real entry types, or overlay's whiteouts
// and opaque directories cannot work (xfs with ftype=0).
Result<bool> supports_d_type(const stdfs::path& dir) {
    auto probe = dir / "d_type-probe";
    {
        fs::UniqueFd fd(::open(probe.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
        if (!fd) return from_errno(errno, "create " + probe.string());
    }
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return from_errno(errno, "open " + dir.string());
    bool ok = false;
    while (dirent* e = ::readdir(d)) {
        if (std::string_view(e->d_name) == "d_type-probe") ok = e->d_type == DT_REG;
    }
    ::closedir(d);
    ::unlink(probe.c_str());
    return ok;
}

} // namespace

Status check_supported(const stdfs::path& root) {
    std::error_code ec;
    stdfs::create_directories(root, ec);
    if (ec) return from_errno(ec.value(), "create " + root.string());
    std::string scratch = (root / "overlay-check-XXXXXX").string();
    if (::mkdtemp(scratch.data()) == nullptr)
        return from_errno(errno, "create scratch directory under " + root.string());
    stdfs::path s = scratch;
    auto result = [&]() -> Status {
        GANTRY_ASSIGN_OR_RETURN(bool dtype, supports_d_type(s));
        if (!dtype)
            return failed_precondition(root.string() +
                                       " does not support d_type (xfs needs ftype=1)");
        for (const char* d : {"lower1", "lower2", "upper", "work", "merged"})
            stdfs::create_directory(s / d, ec);
        // Two lower dirs as containerd's check: the smallest real layered mount.
        mount::Mount m{"overlay",
                       "overlay",
                       "",
                       {"workdir=" + (s / "work").string(), "upperdir=" + (s / "upper").string(),
                        "lowerdir=" + (s / "lower2").string() + ":" + (s / "lower1").string()}};
        if (auto st = mount::mount(m, s / "merged"); !st.ok())
            return failed_precondition("overlay cannot be mounted on " + root.string() + ": " +
                                       st.error().message());
        return mount::unmount(s / "merged");
    }();
    (void)remove_tree(s);
    return result;
}

Result<std::shared_ptr<Snapshotter>> open(const stdfs::path& root, const Options& options) {
    std::error_code ec;
    stdfs::create_directories(root / "snapshots", ec);
    if (ec) return from_errno(ec.value(), "create " + (root / "snapshots").string());
    ::chmod(root.c_str(), 0700);
    ::chmod((root / "snapshots").c_str(), 0700);
    GANTRY_ASSIGN_OR_RETURN(auto ms, storage::MetaStore::open(root));
    return std::shared_ptr<Snapshotter>(
        std::make_shared<OverlaySnapshotter>(root, std::move(ms), options));
}

} // namespace gantry::snapshots::overlay
