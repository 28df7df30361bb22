#include "core/config/section_reader.hpp"
#include "core/gc/scheduler.hpp"

#include <atomic>
#include <gtest/gtest.h>
#include <thread>
#include <toml++/toml.h>

namespace gantry::gc {
namespace {

using namespace std::chrono_literals;

// A collector that counts passes and can be slowed down.
struct Counting {
    std::atomic<int> passes{0};
    std::atomic<int> fail_next{0};
    std::chrono::milliseconds pass_time{0};
    Scheduler::CollectFn fn() {
        return [this]() -> Result<Stats> {
            std::this_thread::sleep_for(pass_time);
            ++passes;
            if (fail_next > 0) {
                --fail_next;
                return unknown_error("disk on fire");
            }
            return Stats{};
        };
    }
};

SchedulerConfig quick() {
    SchedulerConfig c;
    c.startup_delay = 10ms;
    return c;
}

template <typename P>
bool eventually(P pred, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(2ms);
    }
    return pred();
}

TEST(Scheduler, FirstPassAfterStartupDelay) {
    Counting c;
    SchedulerConfig cfg;
    cfg.startup_delay = 200ms;
    Scheduler s(cfg, c.fn());
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(c.passes, 0);
    EXPECT_TRUE(eventually([&] { return c.passes == 1; }));
}

TEST(Scheduler, CollectNowWaitsForAPassThatStartsAfterTheCall) {
    Counting c;
    c.pass_time = 50ms;
    Scheduler s(quick(), c.fn());
    ASSERT_TRUE(eventually([&] { return c.passes >= 1; }));
    const int before = c.passes;
    ASSERT_TRUE(s.collect_now().ok());
    EXPECT_GE(c.passes, before + 1);
    EXPECT_EQ(s.passes(), static_cast<std::uint64_t>(c.passes.load()));
}

TEST(Scheduler, ConcurrentRequestsShareAPass) {
    Counting c;
    c.pass_time = 300ms;
    Scheduler s(quick(), c.fn());
    ASSERT_TRUE(eventually([&] { return s.passes() >= 1; }));
    const int before = c.passes;
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i)
        ts.emplace_back([&] { EXPECT_TRUE(s.collect_now().ok()); });
    for (auto& t : ts)
        t.join();
    // 8 requests: at most two passes (one may have been starting when the first arrived).
    EXPECT_GE(c.passes, before + 1);
    EXPECT_LE(c.passes, before + 2);
}

TEST(Scheduler, DeletionSchedulesAPassSoonAndDebounces) {
    Counting c;
    Scheduler s(quick(), c.fn());
    ASSERT_TRUE(eventually([&] { return c.passes == 1; }));
    // Idle: the interval-tick does not run a pass without deletions.
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(c.passes, 1);
    for (int i = 0; i < 50; ++i)
        s.mark_dirty();
    EXPECT_TRUE(eventually([&] { return c.passes >= 2; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_LE(c.passes, 3); // 50 deletions, a pass or two
}

TEST(Scheduler, DeletionThresholdWaitsForEnoughDeletions) {
    Counting c;
    c.pass_time = 20ms; // the tick interval becomes 20ms / 0.02 - 20ms = 980 ms
    SchedulerConfig cfg = quick();
    cfg.deletion_threshold = 5;
    Scheduler s(cfg, c.fn());
    ASSERT_TRUE(eventually([&] { return c.passes == 1; }));
    for (int i = 0; i < 4; ++i)
        s.mark_dirty();
    std::this_thread::sleep_for(100ms); // less than the first interval (1 s)
    EXPECT_EQ(c.passes, 1);
    s.mark_dirty();
    EXPECT_TRUE(eventually([&] { return c.passes == 2; }));
}

TEST(Scheduler, FailedPassIsReportedToTheWaiter) {
    Counting c;
    Scheduler s(quick(), c.fn());
    ASSERT_TRUE(eventually([&] { return c.passes == 1; }));
    c.fail_next = 1;
    auto st = s.collect_now();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message(), "disk on fire");
    EXPECT_TRUE(s.collect_now().ok());
}

TEST(Scheduler, StoppingReleasesWaiters) {
    Counting c;
    SchedulerConfig cfg;
    cfg.startup_delay = 10s;
    cfg.schedule_delay = 10s;
    auto s = std::make_unique<Scheduler>(cfg, c.fn());
    std::optional<Status> got;
    std::atomic<bool> calling{false};
    std::thread t([&] {
        calling = true;
        got = s->collect_now();
    });
    ASSERT_TRUE(eventually([&] { return calling.load(); }));
    std::this_thread::sleep_for(100ms); // the waiter is inside collect_now() by now
    s.reset();
    t.join();
    ASSERT_TRUE(got.has_value());
    ASSERT_FALSE(got->ok());
    EXPECT_EQ(got->error().code(), Errc::Unavailable);
    EXPECT_EQ(c.passes, 0);
}

TEST(SchedulerConfig, DefaultsAndParsing) {
    config::SectionReader none(nullptr, "c.toml", "plugins.\"io.containerd.gc.v1.scheduler\"");
    auto d = read_scheduler_config(none);
    ASSERT_TRUE(d.ok());
    EXPECT_DOUBLE_EQ(d->pause_threshold, 0.02);
    EXPECT_EQ(d->deletion_threshold, 0);
    EXPECT_EQ(d->mutation_threshold, 100);
    EXPECT_EQ(d->schedule_delay, 0ns);
    EXPECT_EQ(d->startup_delay, 100ms);

    auto tbl = toml::parse("pause_threshold = 0.9\ndeletion_threshold = 3\n"
                           "mutation_threshold = 7\nschedule_delay = \"1.5s\"\n"
                           "startup_delay = \"1m2s\"\n");
    config::SectionReader r(&tbl, "c.toml", "gc");
    auto c = read_scheduler_config(r);
    ASSERT_TRUE(c.ok()) << c.error().message();
    EXPECT_DOUBLE_EQ(c->pause_threshold, 0.5); // clamped
    EXPECT_EQ(c->deletion_threshold, 3);
    EXPECT_EQ(c->mutation_threshold, 7);
    EXPECT_EQ(c->schedule_delay, 1500ms);
    EXPECT_EQ(c->startup_delay, 62s);
    EXPECT_TRUE(r.finish().ok());

    auto bad = toml::parse("startup_delay = \"soon\"\n");
    config::SectionReader rb(&bad, "c.toml", "gc");
    auto b = read_scheduler_config(rb);
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.error().message().find("startup_delay"), std::string::npos);
}

TEST(GoDuration, Parses) {
    EXPECT_EQ(*parse_go_duration("0"), 0ns);
    EXPECT_EQ(*parse_go_duration("250ms"), 250ms);
    EXPECT_EQ(*parse_go_duration("1h30m"), 90min);
    EXPECT_EQ(*parse_go_duration("2us"), 2us);
    for (auto bad : {"", "5", "1x", "-1s", "s"})
        EXPECT_FALSE(parse_go_duration(bad).ok()) << bad;
}

} // namespace
} // namespace gantry::gc
