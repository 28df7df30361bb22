// io.containerd.internal.v1.metrics: serves the process-wide Prometheus registry (gRPC, plugin
// status, process metrics) over HTTP at the daemon's [metrics] address. Shipped as a shared
// object so that a daemon without metrics does not carry an HTTP server.
#include "core/metrics/process_collector.hpp"
#include "core/metrics/registry.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

namespace {

using namespace gantry;

struct MetricsServer {
    std::unique_ptr<prometheus::Exposer> exposer;
    std::shared_ptr<metrics::ProcessCollector> process =
        std::make_shared<metrics::ProcessCollector>();
};

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    const std::string& addr = ctx.daemon_config().metrics_address;
    if (addr.empty()) return ctx.skip("no [metrics] address configured");
    auto srv = std::make_shared<MetricsServer>();
    try {
        srv->exposer = std::make_unique<prometheus::Exposer>(addr, /*num_threads=*/1);
    } catch (const std::exception& e) {
        return unavailable("cannot listen on metrics address " + addr + ": " + e.what());
    }
    srv->exposer->RegisterCollectable(metrics::registry());
    srv->exposer->RegisterCollectable(srv->process);
    auto ports = srv->exposer->GetListeningPorts();
    ctx.exports["address"] = addr;
    if (!ports.empty()) ctx.exports["port"] = std::to_string(ports.front());
    return plugin::Instance(srv);
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kInternal),
        .id = "metrics",
        .requires_types = {},
        .config = nullptr,
        .default_config = "",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("metrics", registrations)
