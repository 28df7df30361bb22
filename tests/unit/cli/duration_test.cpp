#include "cmd/gantry/duration.hpp"

#include <gtest/gtest.h>

namespace gantry::cli {
namespace {

using namespace std::chrono_literals;

std::chrono::nanoseconds parsed(std::string_view text) {
    auto d = parse_duration(text);
    EXPECT_TRUE(d.ok()) << text << ": " << d.error().message();
    return d.ok() ? *d : std::chrono::nanoseconds{-1};
}

TEST(ParseDuration, AcceptsGoDurations) {
    EXPECT_EQ(parsed("0"), 0ns);
    EXPECT_EQ(parsed("0s"), 0ns);
    EXPECT_EQ(parsed("10s"), 10s);
    EXPECT_EQ(parsed("250ms"), 250ms);
    EXPECT_EQ(parsed("1m30s"), 90s);
    EXPECT_EQ(parsed("1.5h"), 90min);
    EXPECT_EQ(parsed("2h45m"), 165min);
    EXPECT_EQ(parsed("7us"), 7us);
    EXPECT_EQ(parsed("7\xC2\xB5s"), 7us);
    EXPECT_EQ(parsed("3ns"), 3ns);
    EXPECT_EQ(parsed("+5s"), 5s);
}

TEST(ParseDuration, RefusesWhatGoRefusesAndNegatives) {
    for (std::string_view bad : {"", "5", "s", "5x", "1m30", ".s", "-1s", "10 s", "1e3s"}) {
        auto d = parse_duration(bad);
        ASSERT_FALSE(d.ok()) << bad;
        EXPECT_TRUE(d.error().is(Errc::InvalidArgument));
        EXPECT_NE(d.error().message().find("invalid duration"), std::string::npos);
    }
}

} // namespace
} // namespace gantry::cli
