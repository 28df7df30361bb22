#include "cmd/gantryd/daemon.hpp"

#include "cmd/gantryd/builtins.hpp"
#include "cmd/gantryd/root_lock.hpp"
#include "cmd/gantryd/socket_path.hpp"
#include "cmd/gantryd/ttrpc_endpoint.hpp"
#include "core/events/exchange.hpp"
#include "core/fs/atomic_file.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "core/plugin/loader.hpp"
#include "core/plugin/types.hpp"
#include "services/grpc_service.hpp"
#include "services/metrics_interceptor.hpp"
#include "services/unimplemented_service.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <grpcpp/grpcpp.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::daemon {

std::string default_plugin_dir() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "/usr/local/lib/gantry/plugins";
    std::string exe(buf, static_cast<std::size_t>(n));
    std::string bindir = exe.substr(0, exe.rfind('/'));
    return bindir + "/../lib/gantry/plugins";
}

Status collect_plugins(const config::Config& cfg, plugin::Registry& registry) {
    register_builtins(registry);
    std::string dir = cfg.plugin_dir.empty() ? default_plugin_dir() : cfg.plugin_dir;
    return plugin::load_directory(dir, registry);
}

namespace {

void publish_plugin_status(const plugin::Registry& registry) {
    auto& fam = prometheus::BuildGauge()
                    .Name("gantry_plugin_status")
                    .Help("1 for each plugin, labelled with its type, id and status "
                          "(ok, skip, error).")
                    .Register(*metrics::registry());
    for (const auto& r : registry.records())
        fam.Add({{"type", r.reg.type},
                 {"id", r.reg.id},
                 {"status", std::string(plugin::state_name(r.state))}})
            .Set(1);
}

// Start-up failures are one plain line on stderr, like every other command-line error.
int fail(const Error& e) {
    std::fprintf(stderr, "gantryd: %s\n", e.message().c_str());
    return 1;
}

// Shims forward events to <gRPC address>.ttrpc (protocol-facts §1.1, §10.4). Without the event
// exchange (a failed plugin) there is nothing to forward into, and no socket.
Result<std::unique_ptr<TtrpcEndpoint>> start_ttrpc(const config::Config& cfg,
                                                   const plugin::Registry& registry) {
    auto inst = registry.find(plugin::types::kEvent, "exchange");
    if (!inst.ok()) {
        log::warn("no event exchange ({}): not serving ttrpc events", inst.error().message());
        return std::unique_ptr<TtrpcEndpoint>();
    }
    // The exchange's instance is a Publisher pointing at the Exchange (services/events).
    auto pub = std::static_pointer_cast<events::Publisher>(*inst);
    return TtrpcEndpoint::start(cfg.grpc.address + ".ttrpc", static_cast<uid_t>(cfg.grpc.uid),
                                static_cast<gid_t>(cfg.grpc.gid),
                                std::static_pointer_cast<events::Exchange>(pub));
}

} // namespace

int run(config::Config cfg) {
    const auto t0 = std::chrono::steady_clock::now();
    // Block the stop signals before any thread starts so that only sigwait() below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    for (const std::string& dir : {cfg.root, cfg.state}) {
        if (auto st = fs::mkdir_all(dir, 0711); !st.ok()) return fail(st.error());
    }
    auto lock = RootLock::acquire(cfg.root);
    if (!lock.ok()) return fail(lock.error());
    if (auto st = prepare_socket_path(cfg.grpc.address); !st.ok()) return fail(st.error());

    plugin::Registry registry;
    if (auto st = collect_plugins(cfg, registry); !st.ok()) return fail(st.error());
    if (auto st = registry.read_configs(cfg); !st.ok()) return fail(st.error());
    registry.init_all(cfg);
    publish_plugin_status(registry);

    grpc::ServerBuilder builder;
    builder.SetMaxReceiveMessageSize(static_cast<int>(cfg.grpc.max_recv_message_size));
    builder.SetMaxSendMessageSize(static_cast<int>(cfg.grpc.max_send_message_size));
    builder.AddListeningPort("unix:" + cfg.grpc.address, grpc::InsecureServerCredentials());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> icpt;
    icpt.push_back(services::make_metrics_interceptor());
    builder.experimental().SetInterceptorCreators(std::move(icpt));
    std::size_t nservices = 0;
    for (auto& [id, inst] : registry.find_all(plugin::types::kGrpc)) {
        auto* svc = static_cast<services::GrpcService*>(inst.get());
        builder.RegisterService(svc->service());
        ++nservices;
    }

    services::UnimplementedService unimplemented;
    builder.RegisterCallbackGenericService(&unimplemented);

    // Before the gRPC socket appears (clients take that as "ready"), shims can already forward.
    auto ttrpc = start_ttrpc(cfg, registry);
    if (!ttrpc.ok()) return fail(ttrpc.error());

    // The socket must never exist with looser permissions than 0660, not even briefly.
    mode_t old_umask = ::umask(0117);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    ::umask(old_umask);
    if (!server)
        return fail(unavailable("cannot serve gRPC on " + cfg.grpc.address +
                                " (see the gRPC error above)"));
    if (auto st = secure_socket(cfg.grpc.address, static_cast<uid_t>(cfg.grpc.uid),
                                static_cast<gid_t>(cfg.grpc.gid));
        !st.ok()) {
        server->Shutdown();
        return fail(st.error());
    }
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
    log::info("gantryd serving on {} ({} services, {} plugins) after {:.1f} ms", cfg.grpc.address,
              nservices, registry.records().size(), ms.count());

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    for (const auto& [id, inst] : registry.find_all(plugin::types::kGrpc))
        static_cast<services::GrpcService*>(inst.get())->shutdown();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server->Wait();
    ttrpc->reset();
    ::unlink(cfg.grpc.address.c_str());
    log::info("gantryd stopped");
    return 0;
}

} // namespace gantry::daemon
