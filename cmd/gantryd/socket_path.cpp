#include "cmd/gantryd/socket_path.hpp"

#include "core/fs/atomic_file.hpp"
#include "core/fs/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

namespace gantry::daemon {

Status prepare_socket_path(const std::string& path) {
    sockaddr_un addr{};
    if (path.empty() || path.front() != '/')
        return invalid_argument("grpc address \"" + path + "\" must be an absolute socket path");
    if (path.size() >= sizeof(addr.sun_path))
        return invalid_argument("grpc address \"" + path + "\" is longer than " +
                                std::to_string(sizeof(addr.sun_path) - 1) +
                                " bytes, the limit of a unix socket path");
    auto slash = path.rfind('/');
    std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return from_errno(errno, "stat " + dir);
        GANTRY_TRY(fs::mkdir_all(dir, 0711));
        ::chmod(dir.c_str(), 0711);
    }
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        return from_errno(errno, "stat " + path);
    }
    if (!S_ISSOCK(st.st_mode))
        return failed_precondition("grpc address " + path + " exists and is not a socket");

    fs::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return from_errno(errno, "socket");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
        return failed_precondition("grpc address " + path +
                                   " is in use by a live daemon; stop it first");
    if (errno != ECONNREFUSED && errno != ENOENT) return from_errno(errno, "probe " + path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return from_errno(errno, "remove stale socket " + path);
    return {};
}

Status secure_socket(const std::string& path, uid_t uid, gid_t gid) {
    if (::chmod(path.c_str(), 0660) != 0) return from_errno(errno, "chmod " + path);
    if ((uid != 0 || gid != 0) && ::chown(path.c_str(), uid, gid) != 0)
        return from_errno(errno, "chown " + path);
    return {};
}

} // namespace gantry::daemon
