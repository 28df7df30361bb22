// The process-wide Prometheus registry. gantryd's gRPC layer, the plugin registry and plugins
// all record into it; the metrics plugin serves it.
#pragma once

#include <memory>

namespace prometheus {
class Registry;
}

namespace gantry::metrics {

std::shared_ptr<prometheus::Registry> registry();

} // namespace gantry::metrics
