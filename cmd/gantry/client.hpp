// The connection to gantryd: dialing its unix socket, the metadata and deadline every RPC
// carries, and turning a failed gRPC status into one readable error.
#pragma once

#include "cmd/gantry/commands.hpp"
#include "core/errors.hpp"

#include <chrono>
#include <grpcpp/grpcpp.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gantry::cli {

class Client {
public:
    // Dials the socket named by --address and waits up to --connect-timeout for it to accept.
    // A missing socket or a refused connection fails at once with a message saying so.
    static Result<Client> connect(const Globals& g);

    const std::shared_ptr<grpc::Channel>& channel() const noexcept { return channel_; }
    // The namespace given by -n, GANTRY_NAMESPACE or the default.
    const std::string& ns() const noexcept { return ns_; }

    // Runs one unary RPC, `rpc(grpc::ClientContext*) -> grpc::Status`, with a prepared context.
    template <typename Rpc>
    Status call(Rpc&& rpc) const {
        grpc::ClientContext ctx;
        prepare(ctx);
        return check(std::forward<Rpc>(rpc)(&ctx));
    }

    // Adds what every RPC carries: the `containerd-namespace` header, as ctr sends it, and the
    // --timeout deadline. For streaming RPCs, whose context must outlive a single call.
    void prepare(grpc::ClientContext& ctx) const;
    // A failed status as an Error; a deadline that --timeout set says so.
    Status check(const grpc::Status& status) const;

private:
    Client(std::shared_ptr<grpc::Channel> channel, std::string ns,
           std::optional<std::chrono::system_clock::time_point> deadline, std::string timeout)
        : channel_(std::move(channel)), ns_(std::move(ns)), deadline_(deadline),
          timeout_(std::move(timeout)) {}

    std::shared_ptr<grpc::Channel> channel_;
    std::string ns_;
    std::optional<std::chrono::system_clock::time_point> deadline_;
    std::string timeout_;
};

// The error a gRPC status carries: the class is the code (Errc values are gRPC codes) and the
// message is the server's, which for containerd-style servers already ends in the class suffix
// ("namespace \"x\": not found"); an empty message is replaced by a readable one.
Error from_grpc(const grpc::Status& status);

// gRPC's own name for a status code ("NotFound", "Unimplemented"), as ctr prints it.
std::string_view grpc_code_name(int code);

} // namespace gantry::cli
