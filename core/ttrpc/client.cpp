#include "core/ttrpc/client.hpp"

#include "core/ttrpc/frame.hpp"
#include "core/ttrpc/socket.hpp"
#include "ttrpc/ttrpc.pb.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <poll.h>
#include <sys/socket.h>

namespace gantry::ttrpc {

namespace {

Error closed_error() {
    return unavailable("ttrpc: closed");
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return out;
}

} // namespace

Result<std::unique_ptr<Client>> Client::connect(std::string_view address) {
    GANTRY_ASSIGN_OR_RETURN(fs::UniqueFd fd, dial_unix(address));
    return adopt(std::move(fd));
}

std::unique_ptr<Client> Client::adopt(fs::UniqueFd fd) {
    return std::unique_ptr<Client>(new Client(std::move(fd)));
}

Client::Client(fs::UniqueFd fd) : fd_(std::move(fd)) {
    reader_ = std::thread([this] { read_loop(); });
}

Client::~Client() {
    close();
    if (reader_.joinable()) reader_.join();
}

void Client::close() {
    {
        std::lock_guard lk(mu_);
        if (closed_) return;
        closed_ = true;
    }
    // Wakes the reader's blocking recv; the fd itself is closed only after the reader is joined.
    ::shutdown(fd_.get(), SHUT_RDWR);
}

bool Client::closed() const {
    std::lock_guard lk(mu_);
    return closed_;
}

Result<std::string> Client::call(std::string_view service, std::string_view method,
                                 std::string_view payload, const CallOptions& options) {
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (options.timeout) deadline = std::chrono::steady_clock::now() + *options.timeout;

    ::ttrpc::Request req;
    req.set_service(std::string(service));
    req.set_method(std::string(method));
    req.set_payload(std::string(payload));
    if (options.timeout) req.set_timeout_nano(std::max<std::int64_t>(1, options.timeout->count()));
    for (const auto& [k, v] : options.metadata) {
        auto* kv = req.add_metadata();
        kv->set_key(lower(k));
        kv->set_value(v);
    }
    std::string body = req.SerializeAsString();
    if (body.size() > kMaxMessageSize)
        return Error(Errc::ResourceExhausted,
                     oversized_message(static_cast<std::uint32_t>(body.size())));

    auto pending = std::make_shared<Pending>();
    std::uint32_t stream = 0;
    {
        std::lock_guard lk(mu_);
        if (closed_) return closed_error();
        if (next_stream_ > UINT32_MAX)
            return unavailable("ttrpc: stream ids exhausted on this connection");
        stream = static_cast<std::uint32_t>(next_stream_);
        next_stream_ += 2;
        pending_.emplace(stream, pending);
    }

    if (auto st = write_frame(encode_frame(stream, MessageType::Request, body), deadline);
        !st.ok()) {
        std::lock_guard lk(mu_);
        pending_.erase(stream);
        // The reader may have answered already (it fails every call when the connection dies).
        if (pending->result) return std::move(*pending->result);
        return std::move(st).error();
    }

    std::unique_lock lk(mu_);
    auto done = [&] { return pending->result.has_value(); };
    if (deadline) {
        if (!pending->cv.wait_until(lk, *deadline, done)) {
            pending_.erase(stream);
            return Error(Errc::DeadlineExceeded, "ttrpc: " + std::string(service) + "/" +
                                                     std::string(method) +
                                                     ": context deadline exceeded");
        }
    } else {
        pending->cv.wait(lk, done);
    }
    return std::move(*pending->result);
}

Status Client::write_frame(const std::string& frame,
                           std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::lock_guard wl(write_mu_);
    std::size_t off = 0;
    while (off < frame.size()) {
        ssize_t n =
            ::send(fd_.get(), frame.data() + off, frame.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) {
            close();
            return closed_error();
        }
        int wait_ms = -1;
        if (deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                *deadline - std::chrono::steady_clock::now());
            wait_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
        }
        pollfd p{fd_.get(), POLLOUT, 0};
        int rc = ::poll(&p, 1, wait_ms);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0 || rc < 0) {
            // Part of the frame may be on the wire: the stream cannot be resynchronised.
            if (off > 0) close();
            return Error(Errc::DeadlineExceeded,
                         "ttrpc: sending the request: context deadline exceeded");
        }
        if (p.revents & (POLLERR | POLLHUP)) {
            close();
            return closed_error();
        }
        if (closed()) return closed_error();
    }
    return ok_status();
}

void Client::deliver(std::uint32_t stream, Result<std::string> r) {
    std::lock_guard lk(mu_);
    auto it = pending_.find(stream);
    if (it == pending_.end()) return; // timed out already, or never ours
    it->second->result = std::move(r);
    it->second->cv.notify_one();
    pending_.erase(it);
}

void Client::fail_all(const Error& e) {
    std::lock_guard lk(mu_);
    closed_ = true;
    for (auto& [id, p] : pending_) {
        p->result = e;
        p->cv.notify_one();
    }
    pending_.clear();
}

void Client::read_loop() {
    FrameDecoder decoder;
    std::string buf(64u << 10, '\0');
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        decoder.feed(buf.data(), static_cast<std::size_t>(n));
        while (auto f = decoder.next()) {
            std::uint32_t stream = f->header.stream_id;
            if (f->oversized) {
                deliver(stream,
                        Error(Errc::ResourceExhausted, oversized_message(f->header.length)));
                continue;
            }
            if (f->header.type != static_cast<std::uint8_t>(MessageType::Response)) {
                deliver(stream,
                        internal_error("ttrpc: received a frame of type " +
                                       std::to_string(f->header.type) + " instead of a response"));
                continue;
            }
            ::ttrpc::Response resp;
            if (!resp.ParseFromString(f->body)) {
                deliver(stream, internal_error("ttrpc: cannot unmarshal response"));
                continue;
            }
            if (resp.has_status() && resp.status().code() != 0)
                deliver(stream, from_status(resp.status()));
            else
                deliver(stream, std::move(*resp.mutable_payload()));
        }
    }
    fail_all(closed_error());
}

} // namespace gantry::ttrpc
