// gantryd's ttrpc socket, `<gRPC address>.ttrpc` (containerd's convention, protocol-facts §1.1):
// shims forward their events here. One thread runs a ttrpc event loop; destroying the endpoint
// stops it and removes the socket.
#pragma once

#include "core/errors.hpp"

#include <memory>
#include <string>
#include <sys/types.h>
#include <thread>

namespace gantry::events {
class Exchange;
}
namespace gantry::ttrpc {
class EventLoop;
class Server;
} // namespace gantry::ttrpc

namespace gantry::daemon {

class TtrpcEndpoint {
public:
    // Listens on `path` (0660, owned by uid:gid like the gRPC socket) and serves Events/Forward.
    static Result<std::unique_ptr<TtrpcEndpoint>>
    start(const std::string& path, uid_t uid, gid_t gid, std::shared_ptr<events::Exchange> ex);
    ~TtrpcEndpoint();
    TtrpcEndpoint(const TtrpcEndpoint&) = delete;
    TtrpcEndpoint& operator=(const TtrpcEndpoint&) = delete;

private:
    TtrpcEndpoint() = default;
    std::unique_ptr<ttrpc::EventLoop> loop_;
    std::unique_ptr<ttrpc::Server> server_;
    std::thread thread_;
};

} // namespace gantry::daemon
