#include "core/ttrpc/server.hpp"

#include "core/log.hpp"
#include "core/ttrpc/frame.hpp"
#include "core/ttrpc/socket.hpp"
#include "ttrpc/ttrpc.pb.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gantry::ttrpc {

namespace detail {

struct Connection {
    Server* server = nullptr;
    fs::UniqueFd fd;
    EventLoop::WatchId watch = 0;
    FrameDecoder decoder;
    std::string out;
    std::size_t out_pos = 0;
    std::uint32_t interest = 0;
    bool closed = false;

    std::size_t backlog() const { return out.size() - out_pos; }
};

} // namespace detail

namespace {

// Reads stop while this much output waits, so a client that pipelines requests but does not read
// replies cannot make the server buffer without bound.
constexpr std::size_t kReadPauseBacklog = 8u << 20;
constexpr std::size_t kReadChunk = 64u << 10;
// Reads per readiness event: a busy connection must not starve the others.
constexpr int kReadsPerEvent = 16;

std::string method_key(std::string_view service, std::string_view method) {
    std::string k(service);
    k += '/';
    k += method;
    return k;
}

} // namespace

// Responder ------------------------------------------------------------------------------------

Responder::Responder(Responder&& o) noexcept
    : conn_(std::move(o.conn_)), stream_(o.stream_), done_(std::exchange(o.done_, true)) {}

Responder& Responder::operator=(Responder&& o) noexcept {
    if (this != &o) {
        if (!done_) reply(unknown_error("ttrpc: handler dropped the call"));
        conn_ = std::move(o.conn_);
        stream_ = o.stream_;
        done_ = std::exchange(o.done_, true);
    }
    return *this;
}

Responder::~Responder() {
    if (!done_) reply(unknown_error("ttrpc: handler dropped the call"));
}

void Responder::reply(Result<std::string> payload) {
    if (done_) return;
    done_ = true;
    auto c = conn_.lock();
    if (!c || c->closed) return;
    c->server->send_response(*c, stream_, std::move(payload));
}

// Server ---------------------------------------------------------------------------------------

Server::Server(EventLoop& loop, Options options) : loop_(loop), options_(options) {}

Server::~Server() {
    for (auto& l : listeners_) {
        loop_.remove(l.watch);
        if (!l.unlink_path.empty()) ::unlink(l.unlink_path.c_str());
    }
    auto conns = std::move(conns_);
    for (auto& [fd, c] : conns) {
        loop_.remove(c->watch);
        c->closed = true;
    }
}

void Server::register_method(std::string_view service, std::string_view method, Handler h) {
    register_async(service, method,
                   [h = std::move(h)](std::string_view payload, const CallContext& ctx,
                                      Responder r) { r.reply(h(payload, ctx)); });
}

void Server::register_async(std::string_view service, std::string_view method, AsyncHandler h) {
    auto [it, inserted] = methods_.insert_or_assign(method_key(service, method), std::move(h));
    if (inserted) ++services_[std::string(service)];
}

Status Server::listen(const std::string& path, mode_t mode) {
    GANTRY_ASSIGN_OR_RETURN(fs::UniqueFd fd, listen_unix(path, mode));
    GANTRY_TRY(serve(std::move(fd)));
    listeners_.back().unlink_path = path;
    return ok_status();
}

Status Server::serve(fs::UniqueFd listener) {
    int lfd = listener.get();
    int flags = ::fcntl(lfd, F_GETFL);
    if (flags < 0 || ::fcntl(lfd, F_SETFL, flags | O_NONBLOCK) != 0)
        return from_errno(errno, "ttrpc listener");
    GANTRY_ASSIGN_OR_RETURN(
        auto watch, loop_.add(lfd, EPOLLIN, [this, lfd](std::uint32_t) { on_accept(lfd); }));
    listeners_.push_back(Listener{std::move(listener), watch, {}});
    return ok_status();
}

void Server::on_accept(int lfd) {
    for (int i = 0; i < 64; ++i) {
        fs::UniqueFd fd(::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log::warn("ttrpc: accept: {}", std::strerror(errno));
            return;
        }
        if (options_.require_same_user && !peer_is_same_user(fd.get())) {
            log::warn("ttrpc: refusing a connection from another user");
            continue;
        }
        auto c = std::make_shared<detail::Connection>();
        c->server = this;
        int cfd = fd.get();
        c->fd = std::move(fd);
        c->interest = EPOLLIN | EPOLLRDHUP;
        std::weak_ptr<detail::Connection> weak = c;
        auto watch = loop_.add(cfd, c->interest, [this, weak](std::uint32_t ev) {
            if (auto conn = weak.lock()) on_conn_event(conn, ev);
        });
        if (!watch.ok()) {
            log::warn("ttrpc: {}", watch.error().message());
            continue;
        }
        c->watch = *watch;
        conns_.emplace(cfd, std::move(c));
    }
}

void Server::on_conn_event(const std::shared_ptr<detail::Connection>& c, std::uint32_t events) {
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) flush(*c);
    if (c->closed) return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
        char buf[kReadChunk];
        for (int i = 0; i < kReadsPerEvent && !c->closed; ++i) {
            if (c->backlog() >= kReadPauseBacklog) break;
            ssize_t n = ::recv(c->fd.get(), buf, sizeof buf, 0);
            if (n == 0) {
                close_conn(*c);
                return;
            }
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) close_conn(*c);
                break;
            }
            c->decoder.feed(buf, static_cast<std::size_t>(n));
            while (!c->closed) {
                auto f = c->decoder.next();
                if (!f) break;
                on_frame(c, *f);
            }
            if (static_cast<std::size_t>(n) < sizeof buf) break;
        }
    }
    if (!c->closed) update_interest(*c);
}

void Server::on_frame(const std::shared_ptr<detail::Connection>& c, Frame& f) {
    if (f.header.type != static_cast<std::uint8_t>(MessageType::Request)) return;
    std::uint32_t stream = f.header.stream_id;
    if (f.oversized) {
        send_raw_error(*c, stream, Errc::ResourceExhausted, oversized_message(f.header.length));
        return;
    }
    ::ttrpc::Request req;
    if (!req.ParseFromString(f.body)) {
        send_raw_error(*c, stream, Errc::InvalidArgument, "unmarshal request error: bad protobuf");
        return;
    }
    if (stream % 2 == 0) {
        send_raw_error(*c, stream, Errc::InvalidArgument,
                       "StreamID must be odd for client initiated streams");
        return;
    }
    auto it = methods_.find(method_key(req.service(), req.method()));
    if (it == methods_.end()) {
        if (services_.find(req.service()) == services_.end())
            send_raw_error(*c, stream, Errc::NotImplemented, "service " + req.service());
        else
            send_raw_error(*c, stream, Errc::NotImplemented, "method " + req.method());
        return;
    }
    CallContext ctx;
    ctx.service = req.service();
    ctx.method = req.method();
    ctx.metadata.reserve(static_cast<std::size_t>(req.metadata_size()));
    for (const auto& kv : req.metadata())
        ctx.metadata.emplace_back(kv.key(), kv.value());
    if (req.timeout_nano() > 0)
        ctx.deadline =
            std::chrono::steady_clock::now() + std::chrono::nanoseconds(req.timeout_nano());
    // The handler may outlive this frame (async); it gets its own copy of what it needs.
    AsyncHandler handler = it->second;
    handler(req.payload(), ctx, Responder(c, stream));
}

void Server::send_response(detail::Connection& c, std::uint32_t stream, Result<std::string> r) {
    if (c.closed) return;
    ::ttrpc::Response resp;
    if (r.ok()) {
        if (r->size() > kMaxMessageSize)
            *resp.mutable_status() = to_status(Error(
                Errc::ResourceExhausted, oversized_message(static_cast<std::uint32_t>(r->size()))));
        else
            resp.set_payload(std::move(r).value());
    } else {
        *resp.mutable_status() = to_status(r.error());
    }
    send_body(c, stream, resp.SerializeAsString());
}

void Server::send_raw_error(detail::Connection& c, std::uint32_t stream, Errc code,
                            std::string message) {
    ::ttrpc::Response resp;
    resp.mutable_status()->set_code(static_cast<int>(code));
    resp.mutable_status()->set_message(std::move(message));
    send_body(c, stream, resp.SerializeAsString());
}

void Server::send_body(detail::Connection& c, std::uint32_t stream, const std::string& body) {
    if (c.closed) return;
    c.out += encode_frame(stream, MessageType::Response, body);
    flush(c);
    if (!c.closed) {
        if (c.backlog() > options_.max_write_backlog) {
            log::warn("ttrpc: client does not read its replies; closing the connection");
            close_conn(c);
            return;
        }
        update_interest(c);
    }
}

void Server::flush(detail::Connection& c) {
    while (c.out_pos < c.out.size()) {
        ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            close_conn(c);
            return;
        }
        c.out_pos += static_cast<std::size_t>(n);
    }
    if (c.out_pos == c.out.size()) {
        c.out.clear();
        c.out_pos = 0;
    } else if (c.out_pos > (1u << 20)) {
        c.out.erase(0, c.out_pos);
        c.out_pos = 0;
    }
}

void Server::update_interest(detail::Connection& c) {
    // While reads are paused, hang-ups wait too (EPOLLHUP/EPOLLERR are always reported).
    std::uint32_t want = 0;
    if (c.backlog() < kReadPauseBacklog) want |= EPOLLIN | EPOLLRDHUP;
    if (c.backlog() > 0) want |= EPOLLOUT;
    if (want == c.interest) return;
    if (loop_.modify(c.watch, want).ok()) c.interest = want;
}

void Server::close_conn(detail::Connection& c) {
    if (c.closed) return;
    c.closed = true;
    loop_.remove(c.watch);
    int fd = c.fd.get();
    c.fd.reset();
    c.out.clear();
    c.out_pos = 0;
    // Last statement: the map may hold the last reference to `c`.
    conns_.erase(fd);
}

} // namespace gantry::ttrpc
