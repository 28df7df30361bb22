// A ttrpc server (containerd/ttrpc 1.1.1 semantics, protocol-facts §9) driven by an EventLoop:
// no threads of its own. Handlers run on the loop thread, so a handler that blocks stalls every
// connection; work that waits (a shim's Wait) uses an async handler and replies later.
//
// Per connection the server reads non-blocking, decodes frames and answers each request in
// arrival order of completion; pipelined requests are fine. Errors follow ttrpc:
//   - a frame that is not a request: ignored;
//   - a body over 4 MiB: skipped, ResourceExhausted on its stream, the connection stays;
//   - a request that does not decode: InvalidArgument "unmarshal request error: ...";
//   - an even stream id: InvalidArgument "StreamID must be odd for client initiated streams";
//   - unknown service / method: Unimplemented "service <s>" / "method <m>".
// A peer that is not our uid/gid is refused at accept (ttrpc's same-user handshake). A client
// that stops reading while replies pile up past Options::max_write_backlog is disconnected.
#pragma once

#include "core/errors.hpp"
#include "core/fs/unique_fd.hpp"
#include "core/ttrpc/event_loop.hpp"
#include "core/ttrpc/frame.hpp"
#include "core/ttrpc/status.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace gantry::ttrpc {

struct CallContext {
    std::string service;
    std::string method;
    Metadata metadata;
    // From the request's timeout_nano; nullopt when the client set none.
    std::optional<std::chrono::steady_clock::time_point> deadline;

    // The ttrpc namespace header's first value, if any.
    std::optional<std::string_view> ns() const { return metadata_get(metadata, kNamespaceKey); }
};

namespace detail {
struct Connection;
}
class Server;

// The reply channel of one call. Use it on the loop thread only; reply at most once. A
// Responder dropped without a reply answers Unknown so that the client is never left waiting.
// Replies to a connection that has gone away are discarded.
class Responder {
public:
    Responder(Responder&&) noexcept;
    Responder& operator=(Responder&&) noexcept;
    Responder(const Responder&) = delete;
    Responder& operator=(const Responder&) = delete;
    ~Responder();

    void reply(Result<std::string> payload);

private:
    friend class Server;
    Responder(std::weak_ptr<detail::Connection> conn, std::uint32_t stream)
        : conn_(std::move(conn)), stream_(stream) {}
    std::weak_ptr<detail::Connection> conn_;
    std::uint32_t stream_ = 0;
    bool done_ = false;
};

// payload: the request's serialized message; returns the serialized response message.
using Handler = std::function<Result<std::string>(std::string_view payload, const CallContext&)>;
using AsyncHandler =
    std::function<void(std::string_view payload, const CallContext&, Responder responder)>;

class Server {
public:
    struct Options {
        bool require_same_user = true;
        std::size_t max_write_backlog = 64u << 20;
    };

    explicit Server(EventLoop& loop) : Server(loop, Options{}) {}
    Server(EventLoop& loop, Options options);
    // Closes every connection and listener; removes socket files created by listen().
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Registering the same service/method twice replaces the handler.
    void register_method(std::string_view service, std::string_view method, Handler h);
    void register_async(std::string_view service, std::string_view method, AsyncHandler h);

    // Listens on a new socket at `path` with `mode` (a stale socket is replaced).
    Status listen(const std::string& path, mode_t mode);
    // Serves an already listening socket, e.g. the fd a shim inherits.
    Status serve(fs::UniqueFd listener);

    std::size_t connection_count() const { return conns_.size(); }

private:
    friend class Responder;
    friend struct detail::Connection;
    struct Listener {
        fs::UniqueFd fd;
        EventLoop::WatchId watch = 0;
        std::string unlink_path;
    };

    void on_accept(int lfd);
    void on_conn_event(const std::shared_ptr<detail::Connection>& c, std::uint32_t events);
    void on_frame(const std::shared_ptr<detail::Connection>& c, Frame& f);
    // Handler results: errors carry containerd's class suffix (Error::wire_message).
    void send_response(detail::Connection& c, std::uint32_t stream, Result<std::string> r);
    // The server's own errors, with ttrpc's exact texts.
    void send_raw_error(detail::Connection& c, std::uint32_t stream, Errc code,
                        std::string message);
    void send_body(detail::Connection& c, std::uint32_t stream, const std::string& body);
    void flush(detail::Connection& c);
    void update_interest(detail::Connection& c);
    void close_conn(detail::Connection& c);

    EventLoop& loop_;
    Options options_;
    std::map<std::string, AsyncHandler, std::less<>> methods_; // key "service/method"
    std::map<std::string, int, std::less<>> services_;         // service -> method count
    std::vector<Listener> listeners_;
    std::map<int, std::shared_ptr<detail::Connection>> conns_; // by fd
};

} // namespace gantry::ttrpc
