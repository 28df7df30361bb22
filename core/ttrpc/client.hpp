// A ttrpc client (containerd/ttrpc 1.1.1 semantics, protocol-facts §9): one connection, any
// number of concurrent calls from any threads. Calls are numbered 1, 3, 5, ...; a reader thread
// matches each response to its caller by stream id, so calls complete out of order.
//
// Errors:
//   - the server's Response.status: its code as Errc, its message as sent;
//   - the connection closes or breaks: every pending and later call fails Unavailable
//     "ttrpc: closed";
//   - the deadline passes: DeadlineExceeded. The server got timeout_nano and stops on its own;
//     a late response is dropped;
//   - a request over 4 MiB is refused locally with ResourceExhausted (ttrpc's Go sender would
//     send it and get the same code back); a response over 4 MiB fails that call only.
// A write that cannot complete within the call's deadline leaves a partial frame behind, so the
// connection is closed and every call on it fails.
#pragma once

#include "core/errors.hpp"
#include "core/fs/unique_fd.hpp"
#include "core/ttrpc/status.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <google/protobuf/message.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace gantry::ttrpc {

struct CallOptions {
    // Sent as timeout_nano and enforced locally. nullopt: no deadline.
    std::optional<std::chrono::nanoseconds> timeout;
    Metadata metadata;

    // Adds the containerd-namespace-ttrpc header.
    CallOptions& with_namespace(std::string_view ns) {
        metadata.emplace_back(std::string(kNamespaceKey), std::string(ns));
        return *this;
    }
    CallOptions& with_timeout(std::chrono::nanoseconds t) {
        timeout = t;
        return *this;
    }
};

class Client {
public:
    // Dials "unix:///path" or "/path".
    static Result<std::unique_ptr<Client>> connect(std::string_view address);
    // Takes a connected stream socket.
    static std::unique_ptr<Client> adopt(fs::UniqueFd fd);

    // Closes the connection; pending calls fail Unavailable; joins the reader.
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // payload is a serialized request message; returns the serialized response message.
    Result<std::string> call(std::string_view service, std::string_view method,
                             std::string_view payload, const CallOptions& options = {});

    // Typed convenience: serializes `req`, parses the reply into Resp (Internal if it does not
    // parse).
    template <typename Resp>
    Result<Resp> call(std::string_view service, std::string_view method,
                      const google::protobuf::Message& req, const CallOptions& options = {}) {
        std::string bytes;
        if (!req.SerializeToString(&bytes)) return internal_error("ttrpc: cannot marshal request");
        GANTRY_ASSIGN_OR_RETURN(std::string out, call(service, method, bytes, options));
        Resp resp;
        if (!resp.ParseFromString(out))
            return internal_error("ttrpc: cannot unmarshal response of " + std::string(service) +
                                  "/" + std::string(method));
        return resp;
    }

    // Ends the connection from any thread; idempotent.
    void close();
    bool closed() const;

private:
    struct Pending {
        std::condition_variable cv;
        std::optional<Result<std::string>> result;
    };

    explicit Client(fs::UniqueFd fd);
    void read_loop();
    void deliver(std::uint32_t stream, Result<std::string> r);
    void fail_all(const Error& e);
    Status write_frame(const std::string& frame,
                       std::optional<std::chrono::steady_clock::time_point> deadline);

    fs::UniqueFd fd_;
    mutable std::mutex mu_;
    std::uint64_t next_stream_ = 1;
    bool closed_ = false;
    std::unordered_map<std::uint32_t, std::shared_ptr<Pending>> pending_;
    std::mutex write_mu_;
    std::thread reader_;
};

} // namespace gantry::ttrpc
