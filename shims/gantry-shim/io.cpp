#include "shims/gantry-shim/io.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace gantry::shim {

namespace {

void setNonBlocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// An output path: a FIFO opened read-write (so opening never blocks and a departed reader does
// not kill the writer with SIGPIPE, as the runc shim does), or a file:// path appended to.
Fd openOutput(const std::string& path, std::string& err) {
    Fd fd;
    if (path.rfind("file://", 0) == 0) {
        fd.reset(::open(path.c_str() + 7, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    } else if (path.find("://") != std::string::npos) {
        err = "unsupported stdio URI " + path + " (only FIFOs and file:// are)";
        return {};
    } else {
        fd.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    }
    if (!fd) err = "open " + path + ": " + strerror(errno);
    return fd;
}

} // namespace

Pump::Pump(Loop& loop, Fd src, Fd dst) : loop_(loop), src_(std::move(src)), dst_(std::move(dst)) {
    setNonBlocking(src_.get());
    setNonBlocking(dst_.get());
    loop_.add(src_.get(), EPOLLIN, [this](uint32_t ev) { onSrc(ev); });
}

Pump::~Pump() {
    stop();
}

void Pump::stop() {
    if (src_) loop_.remove(src_.get());
    if (dst_) loop_.remove(dst_.get());
    src_.reset();
    dst_.reset();
}

bool Pump::flush() {
    while (!buf_.empty()) {
        ssize_t n = ::write(dst_.get(), buf_.data(), buf_.size());
        if (n > 0) {
            buf_.erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return n < 0 && errno == EAGAIN;
        }
    }
    return true;
}

void Pump::onSrc(uint32_t) {
    char chunk[32768];
    ssize_t n = ::read(src_.get(), chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { // EOF, or EIO from a terminal master whose slave side has closed
        stop();
        return;
    }
    buf_.assign(chunk, static_cast<size_t>(n));
    if (!flush()) return stop();
    if (!buf_.empty()) waitForDst(); // reading nothing until the destination drains
}

void Pump::onDst(uint32_t) {
    if (!flush()) return stop();
    if (buf_.empty()) {
        loop_.remove(dst_.get());
        if (finishing_) return drainThenStop();
        loop_.add(src_.get(), EPOLLIN, [this](uint32_t ev) { onSrc(ev); });
    }
}

void Pump::waitForDst() {
    loop_.remove(src_.get());
    loop_.add(dst_.get(), EPOLLOUT, [this](uint32_t ev) { onDst(ev); });
}

void Pump::finish() {
    if (!src_ || finishing_) return;
    finishing_ = true;
    if (buf_.empty()) drainThenStop(); // else onDst goes on once the destination drains
}

void Pump::drainThenStop() {
    while (true) {
        char chunk[32768];
        const ssize_t n = ::read(src_.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return stop(); // EOF, or EAGAIN: nothing more was written before CloseIO
        buf_.assign(chunk, static_cast<size_t>(n));
        if (!flush()) return stop();
        if (!buf_.empty()) {
            waitForDst();
            return;
        }
    }
}

std::string openProcessIo(const std::string& stdinPath, const std::string& stdoutPath,
                          const std::string& stderrPath, bool terminal, ProcessIo& io) {
    std::string err;
    if (!stdinPath.empty()) {
        // Non-blocking, so the open does not wait for the client's writer; the pump sees no
        // hang-up before a writer has come and gone.
        io.stdinFifo.reset(::open(stdinPath.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (!io.stdinFifo) return "open " + stdinPath + ": " + strerror(errno);
    }
    if (terminal) {
        if (!stdoutPath.empty()) {
            io.stdoutFifo = openOutput(stdoutPath, err);
            if (!io.stdoutFifo) return err;
        }
        static std::atomic<unsigned> counter{0};
        io.consolePath = "/tmp/.gantry-pty-" + std::to_string(::getpid()) + "-" +
                         std::to_string(counter++) + ".sock";
        io.consoleListener.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        io.consolePath.copy(addr.sun_path, sizeof addr.sun_path - 1);
        ::unlink(io.consolePath.c_str());
        if (!io.consoleListener ||
            ::bind(io.consoleListener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
                0 ||
            ::listen(io.consoleListener.get(), 1) != 0)
            return "console socket " + io.consolePath + ": " + strerror(errno);
        return {};
    }
    if (io.stdinFifo) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return std::string("pipe: ") + strerror(errno);
        io.passed.emplace_back(p[0]);
        io.runtimeStdio[0] = p[0];
        io.stdinPipe.reset(p[1]);
    }
    const std::string* outs[2] = {&stdoutPath, &stderrPath};
    for (int i = 0; i < 2; ++i) {
        if (outs[i]->empty()) continue;
        Fd fd = openOutput(*outs[i], err);
        if (!fd) return err;
        io.runtimeStdio[i + 1] = fd.get();
        io.passed.push_back(std::move(fd));
    }
    return {};
}

Fd receiveConsole(ProcessIo& io, std::string& err) {
    // The runtime connected and sent the master before it exited; both wait in the backlog.
    pollfd p{io.consoleListener.get(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) {
        err = "no terminal received from the runtime";
        return {};
    }
    Fd conn(::accept4(io.consoleListener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
        err = std::string("accept console: ") + strerror(errno);
        return {};
    }
    char data[256];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0) {
        err = std::string("receive console: ") + strerror(errno);
        return {};
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            ::unlink(io.consolePath.c_str());
            io.consoleListener.reset();
            return Fd(fd);
        }
    }
    err = "the runtime sent no terminal fd";
    return {};
}

} // namespace gantry::shim
