#include "snapshotters/btrfs/testing/loop_btrfs.hpp"

#include "core/fs/atomic_file.hpp"
#include "core/fs/unique_fd.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/loop.h>
#include <spawn.h>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace gantry::snapshots::btrfs::testing {

namespace fs = std::filesystem;
using gantry::fs::UniqueFd;

namespace {

// <parent>/gbtrfs-<pid>-XXXXXX
constexpr std::string_view kPrefix = "gbtrfs-";

std::string find_mkfs() {
    for (const char* p : {"/usr/sbin/mkfs.btrfs", "/sbin/mkfs.btrfs", "/usr/bin/mkfs.btrfs"})
        if (::access(p, X_OK) == 0) return p;
    return {};
}

// Runs argv with stdout and stderr in `log`; the exit status (-1 when it did not run).
int run(const std::vector<std::string>& argv, const fs::path& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A free loop device bound to `file` with autoclear. Another process may take the device the
// kernel just called free, so a busy one is retried with the next free number.
Result<std::pair<UniqueFd, std::string>> attach(int file) {
    UniqueFd ctl(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    if (!ctl)
        return unavailable("no loop devices: /dev/loop-control: " + std::string(strerror(errno)));
    for (int attempt = 0; attempt < 20; ++attempt) {
        int n = ::ioctl(ctl.get(), LOOP_CTL_GET_FREE);
        if (n < 0) return unavailable("no free loop device: " + std::string(strerror(errno)));
        std::string dev = "/dev/loop" + std::to_string(n);
        UniqueFd loop(::open(dev.c_str(), O_RDWR | O_CLOEXEC));
        if (!loop) return unavailable("open " + dev + ": " + std::string(strerror(errno)));
        loop_config cfg{};
        cfg.fd = static_cast<__u32>(file);
        cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        if (::ioctl(loop.get(), LOOP_CONFIGURE, &cfg) == 0) return std::pair{std::move(loop), dev};
        if (errno != EBUSY) return from_errno(errno, "attach " + dev);
    }
    return unavailable("every free loop device was taken by someone else");
}

// Filesystems of test processes that were killed before their destructors ran (SIGKILL, a
// ctest timeout): their directory names carry the owner's pid, so a dead owner's mount is
// detached (its loop device then clears itself) and its directory removed.
void sweep_dead(const fs::path& parent) {
    std::error_code ec;
    for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.starts_with(kPrefix)) continue;
        const auto rest = name.substr(kPrefix.size());
        const auto dash = rest.find('-');
        if (dash == std::string::npos || dash == 0) continue;
        pid_t pid = 0;
        try {
            pid = static_cast<pid_t>(std::stol(rest.substr(0, dash)));
        } catch (...) {
            continue;
        }
        if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        ::umount2((it->path() / "mnt").c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
        std::error_code rec;
        fs::remove_all(it->path(), rec);
    }
}

} // namespace

Result<std::unique_ptr<LoopBtrfs>> LoopBtrfs::create(const fs::path& parent, std::uint64_t size) {
    if (::geteuid() != 0) return unavailable("a btrfs loop device needs root");
    std::string mkfs = find_mkfs();
    if (mkfs.empty()) return unavailable("mkfs.btrfs is not installed (btrfs-progs)");

    sweep_dead(parent);
    std::unique_ptr<LoopBtrfs> self(new LoopBtrfs());
    std::string tmpl =
        (parent / (std::string(kPrefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) return from_errno(errno, "mkdtemp " + tmpl);
    self->dir_ = tmpl; // from here on the destructor cleans up whatever exists

    const fs::path image = self->dir_ / "image";
    UniqueFd file(::open(image.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!file) return from_errno(errno, "create " + image.string());
    if (::ftruncate(file.get(), static_cast<off_t>(size)) < 0)
        return from_errno(errno, "size " + image.string());
    const fs::path log = self->dir_ / "mkfs.log";
    if (run({mkfs, "-q", "-f", image.string()}, log) != 0) {
        auto text = gantry::fs::read_file(log.string(), 1 << 16);
        return unknown_error("mkfs.btrfs failed: " + (text.ok() ? *text : std::string("?")));
    }

    GANTRY_ASSIGN_OR_RETURN(auto loop, attach(file.get()));
    self->device_ = loop.second;
    // The loop device holds the file open; the name is no longer needed.
    ::unlink(image.c_str());
    ::unlink(log.c_str());

    self->mount_point_ = self->dir_ / "mnt";
    if (::mkdir(self->mount_point_.c_str(), 0755) < 0)
        return from_errno(errno, "mkdir " + self->mount_point_.string());
    if (::mount(self->device_.c_str(), self->mount_point_.c_str(), "btrfs", 0, nullptr) < 0) {
        int err = errno;
        if (err == ENODEV) return unavailable("the kernel has no btrfs");
        return from_errno(err, "mount " + self->device_ + " on " + self->mount_point_.string());
    }
    self->mounted_ = true;
    // `loop` closes here: from now on only the mount keeps the device, and autoclear detaches
    // it when the mount goes.
    return self;
}

LoopBtrfs::~LoopBtrfs() {
    if (mounted_ && ::umount2(mount_point_.c_str(), UMOUNT_NOFOLLOW) < 0)
        ::umount2(mount_point_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
}

} // namespace gantry::snapshots::btrfs::testing
