#include "core/gc/scheduler.hpp"

#include "core/config/section_reader.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace gantry::gc {

namespace {

// Process-wide GC counters, registered once.
struct Metrics {
    prometheus::Counter& runs;
    prometheus::Counter& failures;
    prometheus::Family<prometheus::Counter>& removed;

    static Metrics& get() {
        static Metrics m = [] {
            auto reg = metrics::registry();
            auto& runs = prometheus::BuildCounter()
                             .Name("gantry_gc_runs_total")
                             .Help("Garbage collection passes, successful or not")
                             .Register(*reg);
            auto& removed = prometheus::BuildCounter()
                                .Name("gantry_gc_removed_objects_total")
                                .Help("Objects removed by garbage collection, by kind")
                                .Register(*reg);
            return Metrics{runs.Add({{"result", "ok"}}), runs.Add({{"result", "error"}}), removed};
        }();
        return m;
    }

    void record(const Stats& s) {
        runs.Increment();
        removed.Add({{"kind", "lease"}}).Increment(static_cast<double>(s.leases));
        removed.Add({{"kind", "ingest"}}).Increment(static_cast<double>(s.ingests));
        removed.Add({{"kind", "blob"}}).Increment(static_cast<double>(s.blobs));
        removed.Add({{"kind", "disk_blob"}}).Increment(static_cast<double>(s.disk_blobs));
        removed.Add({{"kind", "disk_ingest"}}).Increment(static_cast<double>(s.disk_ingests));
    }
};

// containerd has no floor; without one a pass of a few microseconds would make the idle tick
// spin. Deletions and requests do not wait for the tick, so the floor costs them nothing.
constexpr std::chrono::nanoseconds kMinInterval = std::chrono::milliseconds(100);

} // namespace

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
    const auto bad = [&] {
        return invalid_argument("invalid duration \"" + std::string(text) + "\"");
    };
    if (text == "0") return std::chrono::nanoseconds(0);
    if (text.empty()) return bad();
    long double total = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t start = pos;
        while (pos < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.'))
            ++pos;
        if (pos == start) return bad();
        long double number;
        try {
            number = std::stold(std::string(text.substr(start, pos - start)));
        } catch (const std::exception&) {
            return bad();
        }
        start = pos;
        while (pos < text.size() && !std::isdigit(static_cast<unsigned char>(text[pos])) &&
               text[pos] != '.')
            ++pos;
        const std::string_view unit = text.substr(start, pos - start);
        long double scale;
        if (unit == "ns")
            scale = 1;
        else if (unit == "us" || unit == "µs")
            scale = 1e3;
        else if (unit == "ms")
            scale = 1e6;
        else if (unit == "s")
            scale = 1e9;
        else if (unit == "m")
            scale = 60e9;
        else if (unit == "h")
            scale = 3600e9;
        else
            return bad();
        total += number * scale;
    }
    if (total > 9.2e18L) return bad();
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(total)));
}

Result<SchedulerConfig> read_scheduler_config(config::SectionReader& r) {
    SchedulerConfig c;
    GANTRY_ASSIGN_OR_RETURN(c.pause_threshold, r.get_double("pause_threshold", c.pause_threshold));
    GANTRY_ASSIGN_OR_RETURN(c.deletion_threshold,
                            r.get_int("deletion_threshold", c.deletion_threshold));
    GANTRY_ASSIGN_OR_RETURN(c.mutation_threshold,
                            r.get_int("mutation_threshold", c.mutation_threshold));
    for (auto [key, field, def] : {std::tuple{"schedule_delay", &c.schedule_delay, "0s"},
                                   std::tuple{"startup_delay", &c.startup_delay, "100ms"}}) {
        GANTRY_ASSIGN_OR_RETURN(std::string text, r.get_string(key, def));
        auto d = parse_go_duration(text);
        if (!d.ok()) return r.error_at(key, d.error().message());
        *field = *d;
    }
    if (c.deletion_threshold < 0) return r.error_at("deletion_threshold", "must not be negative");
    if (c.mutation_threshold < 0) return r.error_at("mutation_threshold", "must not be negative");
    c.pause_threshold = std::clamp(c.pause_threshold, 0.0, 0.5);
    return c;
}

std::string default_scheduler_config() {
    return "pause_threshold = 0.02\n"
           "deletion_threshold = 0\n"
           "mutation_threshold = 100\n"
           "schedule_delay = \"0s\"\n"
           "startup_delay = \"100ms\"\n";
}

Scheduler::Scheduler(SchedulerConfig config, CollectFn collect)
    : config_(config), collect_(std::move(collect)) {
    next_ = Clock::now() + config_.startup_delay;
    thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    finished_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Scheduler::schedule_soon() {
    const bool early =
        triggered_ || (config_.deletion_threshold == 0 && deletions_ > 0) ||
        (config_.deletion_threshold > 0 && deletions_ >= config_.deletion_threshold) ||
        (config_.mutation_threshold > 0 && mutations_ >= config_.mutation_threshold);
    if (!early) return;
    const auto soon = Clock::now() + config_.schedule_delay;
    if (soon < next_) {
        next_ = soon;
        wake_.notify_all();
    }
}

void Scheduler::mark_dirty() {
    std::lock_guard lk(mu_);
    ++deletions_;
    schedule_soon();
}

void Scheduler::mark_mutation() {
    std::lock_guard lk(mu_);
    ++mutations_;
    schedule_soon();
}

Status Scheduler::collect_now() {
    std::unique_lock lk(mu_);
    if (stopping_) return unavailable("garbage collector is stopping");
    const std::uint64_t target = started_ + 1;
    triggered_ = true;
    schedule_soon();
    finished_.wait(lk, [&] { return stopping_ || finished_count_ >= target; });
    if (finished_count_ < target) return unavailable("garbage collector is stopping");
    if (last_error_) return *last_error_;
    return ok_status();
}

std::uint64_t Scheduler::passes() const {
    std::lock_guard lk(mu_);
    return finished_count_;
}

std::optional<Stats> Scheduler::last_stats() const {
    std::lock_guard lk(mu_);
    return last_stats_;
}

void Scheduler::loop() {
    std::unique_lock lk(mu_);
    while (!stopping_) {
        while (!stopping_ && Clock::now() < next_)
            wake_.wait_until(lk, next_);
        if (stopping_) break;
        const bool run =
            triggered_ || deletions_ > 0 ||
            (config_.mutation_threshold > 0 && mutations_ >= config_.mutation_threshold) ||
            started_ == 0;
        if (!run) {
            next_ = Clock::now() + interval_;
            continue;
        }
        triggered_ = false;
        deletions_ = 0;
        mutations_ = 0;
        ++started_;
        lk.unlock();
        const auto t0 = Clock::now();
        Result<Stats> result = collect_();
        const auto elapsed = Clock::now() - t0;
        if (result.ok()) {
            Metrics::get().record(*result);
            if (result->removed() > 0)
                log::debug("gc: removed {} leases, {} ingests, {} blob records, {} "
                           "blobs and {} ingests on disk in {} us",
                           result->leases, result->ingests, result->blobs, result->disk_blobs,
                           result->disk_ingests,
                           std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
        } else {
            Metrics::get().failures.Increment();
            log::warn("gc: {}", result.error().message());
        }
        lk.lock();
        ++finished_count_;
        if (result.ok()) {
            last_error_.reset();
            last_stats_ = *result;
            total_time_ += elapsed;
            ++successful_;
            if (config_.pause_threshold > 0) {
                const auto avg = total_time_ / static_cast<std::int64_t>(successful_);
                interval_ = std::max<std::chrono::nanoseconds>(
                    kMinInterval, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      avg / config_.pause_threshold - avg));
            }
            next_ = Clock::now() + interval_;
        } else {
            last_error_ = std::move(result).error();
            next_ = Clock::now() + interval_ + std::chrono::seconds(1);
        }
        schedule_soon(); // requests that arrived during the pass
        finished_.notify_all();
    }
    finished_.notify_all();
}

} // namespace gantry::gc
