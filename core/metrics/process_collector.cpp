#include "core/metrics/process_collector.hpp"

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace gantry::metrics {

namespace {

prometheus::MetricFamily gauge(std::string name, std::string help, double v,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
    prometheus::MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    prometheus::ClientMetric m;
    if (type == prometheus::MetricType::Counter)
        m.counter.value = v;
    else
        m.gauge.value = v;
    f.metric.push_back(m);
    return f;
}

double count_fds() {
    DIR* d = opendir("/proc/self/fd");
    if (d == nullptr) return 0;
    double n = 0;
    while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n - 1; // the directory fd itself
}

double boot_time() {
    std::ifstream in("/proc/stat");
    std::string key;
    double v = 0;
    while (in >> key) {
        if (key == "btime") {
            in >> v;
            return v;
        }
        in.ignore(1 << 20, '\n');
    }
    return 0;
}

} // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
    std::vector<prometheus::MetricFamily> out;
    std::ifstream in("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name, which may contain spaces, so start after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return out;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;
    for (std::string s; fields >> s;)
        f.push_back(s);
    // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
    if (f.size() < 22) return out;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    out.push_back(gauge("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
                        (std::stod(f[11]) + std::stod(f[12])) / ticks,
                        prometheus::MetricType::Counter));
    out.push_back(gauge("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds.",
                        boot_time() + std::stod(f[19]) / ticks));
    out.push_back(
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(f[20])));
    out.push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                        std::stod(f[21]) * page));
    out.push_back(gauge("process_open_fds", "Number of open file descriptors.", count_fds()));
    out.push_back(
        gauge("process_threads", "Number of OS threads in the process.", std::stod(f[17])));
    return out;
}

} // namespace gantry::metrics
