// The GC scheduler (io.containerd.gc.v1.scheduler, protocol-facts.md §6.3): decides when a
// collection runs. Deletions (mark_dirty) and explicit requests (collect_now) schedule a pass;
// passes never overlap; requests that arrive while one is pending share it.
//
// Timing, with containerd's settings and defaults:
// - The first pass runs startup_delay after start.
// - A request (collect_now) runs a pass after schedule_delay. So does a deletion when
//   deletion_threshold is 0, or the deletion_threshold-th deletion when it is above 0, or the
//   mutation_threshold-th mutation (mark_mutation).
// - Otherwise a tick every `interval` runs a pass only if something was deleted or mutated since
//   the last one; interval = avg/pause_threshold - avg (avg = mean pass duration), 1 s at first,
//   and never below 100 ms (our choice; it keeps an idle daemon from spinning).
// - A failed pass is retried after the interval plus 1 s.
#pragma once

#include "core/errors.hpp"
#include "core/gc/collector.hpp"
#include "core/gc/gc.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace gantry::config {
class SectionReader;
}

namespace gantry::gc {

struct SchedulerConfig {
    double pause_threshold = 0.02;         // clamped to [0, 0.5]
    std::int64_t deletion_threshold = 0;   // 0: every deletion schedules a pass
    std::int64_t mutation_threshold = 100; //
    std::chrono::nanoseconds schedule_delay{0};
    std::chrono::nanoseconds startup_delay = std::chrono::milliseconds(100);
};

// Reads pause_threshold, deletion_threshold, mutation_threshold, schedule_delay and
// startup_delay (durations as Go writes them: "100ms", "1s", "0s"; integers are nanoseconds).
Result<SchedulerConfig> read_scheduler_config(config::SectionReader& reader);
// The plugin's default section as TOML.
std::string default_scheduler_config();
// "1h2m3.5s", "100ms", "0": Go's time.ParseDuration for non-negative values.
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

class Scheduler final : public Collector {
public:
    using CollectFn = std::function<Result<Stats>()>;

    // Starts the scheduling thread; `collect` runs one pass.
    Scheduler(SchedulerConfig config, CollectFn collect);
    // Stops the thread; waiters in collect_now() get Unavailable.
    ~Scheduler() override;
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    void mark_dirty() override;
    // Waits for a pass that started after this call and returns its outcome.
    Status collect_now() override;
    // A metadata write that is not a deletion.
    void mark_mutation();

    // Passes finished so far (successful or not).
    std::uint64_t passes() const;
    std::optional<Stats> last_stats() const;

private:
    using Clock = std::chrono::steady_clock;
    void loop();
    void schedule_soon(); // with mu_ held

    const SchedulerConfig config_;
    const CollectFn collect_;

    mutable std::mutex mu_;
    std::condition_variable wake_;     // the scheduling thread
    std::condition_variable finished_; // collect_now() waiters
    bool stopping_ = false;
    bool triggered_ = false;
    std::int64_t deletions_ = 0;
    std::int64_t mutations_ = 0;
    Clock::time_point next_;
    std::uint64_t started_ = 0; // passes begun
    std::uint64_t finished_count_ = 0;
    std::optional<Error> last_error_;
    std::optional<Stats> last_stats_;
    std::chrono::nanoseconds total_time_{0};
    std::uint64_t successful_ = 0;
    std::chrono::nanoseconds interval_ = std::chrono::seconds(1);
    std::thread thread_;
};

} // namespace gantry::gc
