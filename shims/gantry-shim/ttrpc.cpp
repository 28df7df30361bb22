#include "shims/gantry-shim/ttrpc.hpp"

#include "shims/gantry-shim/pb.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace gantry::shim::ttrpc {

namespace {

void putBE32(std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        s.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t getBE32(std::string_view s, size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i)
        v = (v << 8) | static_cast<uint8_t>(s[at + i]);
    return v;
}

std::string frame(uint32_t stream, uint8_t type, std::string_view body) {
    std::string out = encodeHeader(static_cast<uint32_t>(body.size()), stream, type);
    out.append(body);
    return out;
}

// Reads what is available; returns false on EOF or a hard error.
bool readAvailable(int fd, FrameReader& reader) {
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            reader.feed({buf, static_cast<size_t>(n)});
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return errno == EAGAIN;
    }
}

// Writes as much of `out` as the socket takes; false on a hard error.
bool writeSome(int fd, std::string& out) {
    while (!out.empty()) {
        ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            out.erase(0, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && errno == EAGAIN;
    }
    return true;
}

} // namespace

std::string encodeHeader(uint32_t length, uint32_t stream, uint8_t type) {
    std::string h;
    h.reserve(kHeaderSize);
    putBE32(h, length);
    putBE32(h, stream);
    h.push_back(static_cast<char>(type));
    h.push_back(0); // flags: always zero in ttrpc 1.1
    return h;
}

bool Request::parse(std::string_view body) {
    pb::Reader r(body);
    pb::Field f;
    while (r.next(f)) {
        switch (f.number) {
        case 1:
            service = f.bytes;
            break;
        case 2:
            method = f.bytes;
            break;
        case 3:
            payload = f.bytes;
            break;
        case 4:
            timeoutNano = static_cast<int64_t>(f.value);
            break;
        case 5: {
            pb::Message kv;
            if (!kv.parse(f.bytes)) return false;
            metadata.emplace_back(kv.str(1), kv.str(2));
            break;
        }
        default:
            break;
        }
    }
    return r.ok();
}

std::string encodeRequest(std::string_view service, std::string_view method,
                          std::string_view payload, int64_t timeoutNano,
                          const std::vector<std::pair<std::string, std::string>>& metadata) {
    pb::Writer w;
    w.str(1, service);
    w.str(2, method);
    w.str(3, payload);
    w.i64(4, timeoutNano);
    for (const auto& [k, v] : metadata) {
        pb::Writer kv;
        kv.str(1, k);
        kv.str(2, v);
        w.msg(5, kv);
    }
    return w.take();
}

std::string encodeResponse(const Status& status, std::string_view payload) {
    pb::Writer w;
    if (!status.ok()) {
        pb::Writer st;
        st.u64(1, status.code);
        st.str(2, status.message);
        w.msg(1, st);
    } else {
        w.str(2, payload);
    }
    return w.take();
}

bool parseResponse(std::string_view body, Status& status, std::string_view& payload) {
    pb::Message m;
    if (!m.parse(body)) return false;
    payload = m.str(2);
    status = {};
    if (m.has(1)) {
        pb::Message st;
        if (!st.parse(m.str(1))) return false;
        status.code = static_cast<uint32_t>(st.u64(1));
        status.message = std::string(st.str(2));
    }
    return true;
}

bool FrameReader::next(Frame& out) {
    if (skip_ > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, buf_.size()));
        buf_.erase(0, n);
        skip_ -= n;
        if (skip_ > 0) return false;
    }
    if (buf_.size() < kHeaderSize) return false;
    uint32_t length = getBE32(buf_, 0);
    out.stream = getBE32(buf_, 4);
    out.type = static_cast<uint8_t>(buf_[8]);
    out.length = length;
    if (length > kMaxMessage) {
        buf_.erase(0, kHeaderSize);
        skip_ = length;
        out.oversized = true;
        out.body.clear();
        return true;
    }
    if (buf_.size() < kHeaderSize + length) return false;
    out.oversized = false;
    out.body.assign(buf_, kHeaderSize, length);
    buf_.erase(0, kHeaderSize + length);
    return true;
}

Server::~Server() {
    for (auto& [id, c] : conns_)
        loop_.remove(c->fd.get());
    if (listener_) loop_.remove(listener_.get());
}

bool Server::listen(Fd listener) {
    int flags = ::fcntl(listener.get(), F_GETFL);
    ::fcntl(listener.get(), F_SETFL, flags | O_NONBLOCK);
    ::fcntl(listener.get(), F_SETFD, FD_CLOEXEC);
    listener_ = std::move(listener);
    return loop_.add(listener_.get(), EPOLLIN, [this](uint32_t) { accept(); });
}

void Server::accept() {
    for (;;) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        uint64_t id = nextConn_++;
        auto c = std::make_unique<Conn>();
        c->fd.reset(fd);
        loop_.add(fd, EPOLLIN | EPOLLRDHUP, [this, id](uint32_t ev) { onConn(id, ev); });
        conns_[id] = std::move(c);
    }
}

void Server::onConn(uint64_t id, uint32_t events) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    if (events & EPOLLOUT) {
        if (!writeOut(id, c)) return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR))) return;
    bool alive = readAvailable(c.fd.get(), c.reader);
    FrameReader::Frame f;
    while (conns_.count(id) && c.reader.next(f)) {
        if (f.oversized) {
            fail({id, f.stream}, {ResourceExhausted, "message length " + std::to_string(f.length) +
                                                         " exceed maximum message size of " +
                                                         std::to_string(kMaxMessage)});
            continue;
        }
        if (f.type != kTypeRequest) continue; // servers ignore anything else
        if (f.stream % 2 == 0) {
            fail({id, f.stream},
                 {InvalidArgument, "StreamID must be odd for client initiated streams"});
            continue;
        }
        Request req;
        if (!req.parse(f.body)) {
            fail({id, f.stream}, {InvalidArgument, "ttrpc: failed to decode request"});
            continue;
        }
        handler_({id, f.stream}, req);
    }
    if (!alive) close(id);
}

void Server::send(Call call, std::string body) {
    auto it = conns_.find(call.conn);
    if (it == conns_.end()) return; // the caller went away; parked answers are dropped
    Conn& c = *it->second;
    c.out += frame(call.stream, kTypeResponse, body);
    writeOut(call.conn, c);
}

bool Server::writeOut(uint64_t id, Conn& c) {
    if (!writeSome(c.fd.get(), c.out)) {
        close(id);
        return false;
    }
    loop_.modify(c.fd.get(), EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : uint32_t{EPOLLOUT}));
    return true;
}

void Server::close(uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    loop_.remove(it->second->fd.get());
    conns_.erase(it);
}

void Server::flushBlocking() {
    for (auto& [id, c] : conns_) {
        for (int tries = 0; !c->out.empty() && tries < 100; ++tries) {
            if (!writeSome(c->fd.get(), c->out)) break;
            if (c->out.empty()) break;
            pollfd p{c->fd.get(), POLLOUT, 0};
            ::poll(&p, 1, 10);
        }
    }
}

bool Client::connect() {
    if (fd_) return true;
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (!fd || path_.size() >= sizeof addr.sun_path) return false;
    path_.copy(addr.sun_path, path_.size());
    // A unix-socket connect completes or fails at once; make the socket non-blocking afterwards.
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    fd_ = std::move(fd);
    reader_ = {};
    out_.clear();
    nextStream_ = 1;
    loop_.add(fd_.get(), EPOLLIN | EPOLLRDHUP, [this](uint32_t ev) { onEvents(ev); });
    return true;
}

void Client::call(std::string_view service, std::string_view method, std::string_view payload,
                  int64_t timeoutNano, const std::vector<std::pair<std::string, std::string>>& md,
                  Done done) {
    if (!connect()) {
        done({Unavailable, "ttrpc: cannot connect to " + path_}, {});
        return;
    }
    uint32_t stream = nextStream_;
    nextStream_ += 2;
    out_ += frame(stream, kTypeRequest, encodeRequest(service, method, payload, timeoutNano, md));
    pending_[stream] = std::move(done);
    if (!writeSome(fd_.get(), out_)) {
        disconnect({Unavailable, "ttrpc: closed"});
        return;
    }
    loop_.modify(fd_.get(), EPOLLIN | EPOLLRDHUP | (out_.empty() ? 0u : uint32_t{EPOLLOUT}));
}

void Client::onEvents(uint32_t events) {
    if (events & EPOLLOUT) {
        if (!writeSome(fd_.get(), out_)) return disconnect({Unavailable, "ttrpc: closed"});
        loop_.modify(fd_.get(), EPOLLIN | EPOLLRDHUP | (out_.empty() ? 0u : uint32_t{EPOLLOUT}));
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR))) return;
    bool alive = readAvailable(fd_.get(), reader_);
    FrameReader::Frame f;
    while (fd_ && reader_.next(f)) {
        auto it = pending_.find(f.stream);
        if (it == pending_.end()) continue;
        Done done = std::move(it->second);
        pending_.erase(it);
        Status st;
        std::string_view payload;
        if (f.type != kTypeResponse || f.oversized || !parseResponse(f.body, st, payload))
            st = {Internal, "ttrpc: bad response frame"};
        done(st, payload);
    }
    if (!alive) disconnect({Unavailable, "ttrpc: closed"});
}

void Client::disconnect(const Status& why) {
    if (fd_) loop_.remove(fd_.get());
    fd_.reset();
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [stream, done] : pending)
        done(why, {});
}

} // namespace gantry::shim::ttrpc
