// process_* metrics (memory, CPU, fds, start time) read from /proc/self at scrape time, with the
// names Prometheus' other clients use, so existing dashboards work unchanged.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace gantry::metrics {

class ProcessCollector final : public prometheus::Collectable {
public:
    std::vector<prometheus::MetricFamily> Collect() const override;
};

} // namespace gantry::metrics
