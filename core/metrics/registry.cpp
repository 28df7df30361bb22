#include "core/metrics/registry.hpp"

#include <prometheus/registry.h>

namespace gantry::metrics {

std::shared_ptr<prometheus::Registry> registry() {
    static const auto r = std::make_shared<prometheus::Registry>();
    return r;
}

} // namespace gantry::metrics
