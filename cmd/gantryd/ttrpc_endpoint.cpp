#include "cmd/gantryd/ttrpc_endpoint.hpp"

#include "cmd/gantryd/socket_path.hpp"
#include "core/log.hpp"
#include "core/ttrpc/event_loop.hpp"
#include "core/ttrpc/server.hpp"
#include "services/events/ttrpc_events.hpp"

namespace gantry::daemon {

Result<std::unique_ptr<TtrpcEndpoint>> TtrpcEndpoint::start(const std::string& path, uid_t uid,
                                                            gid_t gid,
                                                            std::shared_ptr<events::Exchange> ex) {
    GANTRY_TRY(prepare_socket_path(path));
    std::unique_ptr<TtrpcEndpoint> ep(new TtrpcEndpoint());
    GANTRY_ASSIGN_OR_RETURN(ep->loop_, ttrpc::EventLoop::create());
    ep->server_ = std::make_unique<ttrpc::Server>(*ep->loop_);
    services::register_ttrpc_events(*ep->server_, std::move(ex));
    GANTRY_TRY(ep->server_->listen(path, 0660));
    GANTRY_TRY(secure_socket(path, uid, gid));
    ep->thread_ = std::thread([loop = ep->loop_.get()] {
        if (auto st = loop->run(); !st.ok())
            log::error("ttrpc endpoint stopped: {}", st.error().message());
    });
    return ep;
}

TtrpcEndpoint::~TtrpcEndpoint() {
    if (thread_.joinable()) {
        loop_->stop();
        thread_.join();
    }
    server_.reset(); // closes connections and removes the socket
}

} // namespace gantry::daemon
