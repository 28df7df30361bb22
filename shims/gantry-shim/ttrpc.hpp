// ttrpc 1.1 (protocol-facts §9) on the shim's loop: a server for containerd.task.v2.Task and a
// client for the daemon's event service. Unary calls only; no streams (they arrived in ttrpc 1.2).
#pragma once

#include "shims/gantry-shim/fd.hpp"
#include "shims/gantry-shim/loop.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::shim::ttrpc {

inline constexpr uint32_t kMaxMessage = 4 << 20;
inline constexpr uint8_t kTypeRequest = 1;
inline constexpr uint8_t kTypeResponse = 2;
inline constexpr size_t kHeaderSize = 10;

// gRPC status codes used by the shim.
enum Code : uint32_t {
    OK = 0,
    Canceled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
};

struct Status {
    uint32_t code = OK;
    std::string message;
    bool ok() const { return code == OK; }
};

std::string encodeHeader(uint32_t length, uint32_t stream, uint8_t type);

struct Request {
    std::string_view service;
    std::string_view method;
    std::string_view payload;
    int64_t timeoutNano = 0;
    std::vector<std::pair<std::string_view, std::string_view>> metadata;
    bool parse(std::string_view body);
};
std::string encodeRequest(std::string_view service, std::string_view method,
                          std::string_view payload, int64_t timeoutNano,
                          const std::vector<std::pair<std::string, std::string>>& metadata);
// A success carries only the payload (an Empty result is a zero-length body); an error only the
// status.
std::string encodeResponse(const Status& status, std::string_view payload);
bool parseResponse(std::string_view body, Status& status, std::string_view& payload);

// Splits complete frames out of a connection's input buffer; an oversized body is skipped and
// reported so the receiver can answer ResourceExhausted on that stream.
class FrameReader {
public:
    struct Frame {
        uint32_t stream = 0;
        uint8_t type = 0;
        bool oversized = false;
        uint32_t length = 0;
        std::string body;
    };
    void feed(std::string_view data) { buf_.append(data); }
    bool next(Frame& out);

private:
    std::string buf_;
    uint64_t skip_ = 0;
};

// One in-flight call on the server, answered now or later (Wait parks its call until the exit).
struct Call {
    uint64_t conn = 0;
    uint32_t stream = 0;
};

class Server {
public:
    // handler(call, service, method, payload) must eventually call reply() or fail() for `call`.
    using Handler = std::function<void(Call, const Request&)>;

    Server(Loop& loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {}
    ~Server();
    bool listen(Fd listener);
    void reply(Call call, std::string_view payload) { send(call, encodeResponse({}, payload)); }
    void fail(Call call, const Status& status) { send(call, encodeResponse(status, {})); }
    // Writes what can be written now, blocking briefly; used right before the shim exits.
    void flushBlocking();

private:
    struct Conn {
        Fd fd;
        FrameReader reader;
        std::string out;
    };
    void accept();
    void onConn(uint64_t id, uint32_t events);
    void send(Call call, std::string body);
    bool writeOut(uint64_t id, Conn& c);
    void close(uint64_t id);

    Loop& loop_;
    Handler handler_;
    Fd listener_;
    uint64_t nextConn_ = 1;
    std::map<uint64_t, std::unique_ptr<Conn>> conns_;
};

// A client connection to one unix socket, reconnecting lazily on the next call after a failure.
class Client {
public:
    using Done = std::function<void(const Status&, std::string_view payload)>;

    Client(Loop& loop, std::string path) : loop_(loop), path_(std::move(path)) {}
    ~Client() { disconnect({Unavailable, "ttrpc: closed"}); }
    void call(std::string_view service, std::string_view method, std::string_view payload,
              int64_t timeoutNano, const std::vector<std::pair<std::string, std::string>>& md,
              Done done);

private:
    bool connect();
    void onEvents(uint32_t events);
    void disconnect(const Status& why);

    Loop& loop_;
    std::string path_;
    Fd fd_;
    FrameReader reader_;
    std::string out_;
    uint32_t nextStream_ = 1;
    std::map<uint32_t, Done> pending_;
};

} // namespace gantry::shim::ttrpc
