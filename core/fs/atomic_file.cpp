#include "core/fs/atomic_file.hpp"

#include "core/fs/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>

namespace gantry::fs {

Result<std::string> read_file(const std::string& path, std::size_t max_size) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return from_errno(errno, "open " + path);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return from_errno(errno, "read " + path);
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_size)
            return invalid_argument(path + ": larger than " + std::to_string(max_size) + " bytes");
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd) return from_errno(errno, "create " + tmp);
        std::size_t off = 0;
        while (off < data.size()) {
            ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
            if (n < 0) {
                if (errno == EINTR) continue;
                int e = errno;
                ::unlink(tmp.c_str());
                return from_errno(e, "write " + tmp);
            }
            off += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0) {
            int e = errno;
            ::unlink(tmp.c_str());
            return from_errno(e, "fsync " + tmp);
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return from_errno(e, "rename " + tmp);
    }
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return from_errno(errno, "open " + dir);
    if (::fsync(dfd.get()) != 0) return from_errno(errno, "fsync " + dir);
    return {};
}

Status mkdir_all(const std::string& path, mode_t mode) {
    if (path.empty()) return invalid_argument("mkdir: empty path");
    std::string cur;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        cur = path.substr(0, pos);
        if (cur.empty()) continue;
        if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
            return from_errno(errno, "mkdir " + cur);
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return from_errno(errno, "stat " + path);
    if (!S_ISDIR(st.st_mode)) return failed_precondition(path + " exists and is not a directory");
    return {};
}

Result<std::string> random_bytes(std::size_t n) {
    std::string out(n, '\0');
    std::size_t off = 0;
    while (off < n) {
        ssize_t r = ::getrandom(out.data() + off, n - off, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return from_errno(errno, "getrandom");
        }
        off += static_cast<std::size_t>(r);
    }
    return out;
}

} // namespace gantry::fs
