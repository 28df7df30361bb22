#include "core/ttrpc/socket.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace gantry::ttrpc {

namespace {

Result<sockaddr_un> make_addr(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sa.sun_path)
        return invalid_argument("socket path \"" + path + "\" is empty or longer than " +
                                std::to_string(sizeof sa.sun_path - 1) + " bytes");
    std::memcpy(sa.sun_path, path.data(), path.size());
    return sa;
}

} // namespace

Result<std::string> socket_path(std::string_view address) {
    constexpr std::string_view scheme = "unix://";
    if (address.substr(0, scheme.size()) == scheme) address.remove_prefix(scheme.size());
    if (address.find("://") != std::string_view::npos)
        return invalid_argument("ttrpc address \"" + std::string(address) +
                                "\": only unix sockets are supported");
    return std::string(address);
}

Result<fs::UniqueFd> listen_unix(const std::string& path, mode_t mode) {
    GANTRY_ASSIGN_OR_RETURN(sockaddr_un sa, make_addr(path));
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return already_exists(path + " exists and is not a socket");
        ::unlink(path.c_str());
    }
    fs::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return from_errno(errno, "socket");
    // bind() creates the file with the socket inode's mode minus the umask. Narrowing that mode
    // first means the file never exists with more permissions than `mode`, without touching the
    // process-wide umask (gantryd has other threads creating files). chmod then sets it exactly.
    if (::fchmod(fd.get(), mode) != 0) return from_errno(errno, "fchmod socket");
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
        return from_errno(errno, "bind " + path);
    if (::chmod(path.c_str(), mode) != 0) return from_errno(errno, "chmod " + path);
    if (::listen(fd.get(), SOMAXCONN) != 0) return from_errno(errno, "listen " + path);
    return fd;
}

Result<fs::UniqueFd> dial_unix(std::string_view address) {
    GANTRY_ASSIGN_OR_RETURN(std::string path, socket_path(address));
    GANTRY_ASSIGN_OR_RETURN(sockaddr_un sa, make_addr(path));
    fs::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return from_errno(errno, "socket");
    int rc;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return unavailable("ttrpc: dial " + path + ": " + std::strerror(errno));
    return fd;
}

bool peer_is_same_user(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    return cred.uid == ::geteuid() && cred.gid == ::getegid();
}

} // namespace gantry::ttrpc
