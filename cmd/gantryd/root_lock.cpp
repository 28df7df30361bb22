#include "cmd/gantryd/root_lock.hpp"

#include "core/fs/atomic_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/file.h>

namespace gantry::daemon {

Result<RootLock> RootLock::acquire(const std::string& root) {
    const std::string path = root + "/gantryd.lock";
    fs::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return from_errno(errno, "open lock " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) return from_errno(errno, "lock " + path);
        auto holder = fs::read_file(path, 64);
        std::string who = holder.ok() && !holder->empty() ? " (pid " + *holder + ")" : "";
        return failed_precondition("another gantryd" + who + " is running on root " + root);
    }
    std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
        return from_errno(errno, "write lock " + path);
    return RootLock(std::move(fd));
}

} // namespace gantry::daemon
