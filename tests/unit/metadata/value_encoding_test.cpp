#include "core/metadata/value_encoding.hpp"

#include <cstdint>
#include <gtest/gtest.h>
#include <limits>
#include <string>

namespace gantry::metadata {
namespace {

using namespace std::string_literals;

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list)
        s.push_back(static_cast<char>(b));
    return s;
}

// protocol-facts.md §5.2: 01 0000000ee295ee1f 04031361 ffff
const std::string kVerifiedTime = bytes(
    {0x01, 0x00, 0x00, 0x00, 0x0e, 0xe2, 0x95, 0xee, 0x1f, 0x04, 0x03, 0x13, 0x61, 0xff, 0xff});
// 0x0ee295ee1f seconds since year 1 = Unix 1795421983 (2026-11-23T08:19:43Z); 0x04031361 ns.
constexpr Timestamp kVerifiedInstant{1795421983, 67310433};

TEST(TimeEncoding, MatchesVerifiedBytes) {
    EXPECT_EQ(encode_time(kVerifiedInstant), kVerifiedTime);
    auto decoded = decode_time(kVerifiedTime);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(*decoded, kVerifiedInstant);
}

TEST(TimeEncoding, RoundTripsAcrossTheEpoch) {
    for (Timestamp t : {Timestamp{0, 0}, Timestamp{-1, 999999999}, Timestamp{-62135596800, 0},
                        Timestamp{253402300799, 999999999}}) {
        std::string enc = encode_time(t);
        ASSERT_EQ(enc.size(), 15u);
        auto back = decode_time(enc);
        ASSERT_TRUE(back.ok());
        EXPECT_EQ(*back, t);
    }
    // Go's zero time is second 0 of year 1.
    EXPECT_EQ(encode_time({-62135596800, 0}),
              bytes({1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}));
}

TEST(TimeEncoding, ChronoConversionKeepsNanoseconds) {
    auto tp = std::chrono::system_clock::time_point(std::chrono::nanoseconds(-1500000000));
    Timestamp t = to_timestamp(tp);
    EXPECT_EQ(t, (Timestamp{-2, 500000000}));
    EXPECT_EQ(to_time_point(t), tp);
}

TEST(TimeEncoding, AcceptsZoneOffsetsAndVersion2) {
    std::string with_offset = kVerifiedTime;
    with_offset[13] = 0x00;
    with_offset[14] = 0x3c; // +01:00 names the zone, not a different instant
    EXPECT_EQ(*decode_time(with_offset), kVerifiedInstant);
    std::string v2 = with_offset + "\x00"s;
    v2[0] = 0x02;
    EXPECT_EQ(*decode_time(v2), kVerifiedInstant);
}

TEST(TimeEncoding, RejectsMalformedBytes) {
    EXPECT_EQ(decode_time("").error().code(), Errc::DataLoss);
    EXPECT_FALSE(decode_time(kVerifiedTime.substr(0, 14)).ok());
    std::string wrong_version = kVerifiedTime;
    wrong_version[0] = 0x03;
    EXPECT_FALSE(decode_time(wrong_version).ok());
    std::string bad_nanos = kVerifiedTime;
    bad_nanos[9] = 0x7f; // > 1e9
    EXPECT_FALSE(decode_time(bad_nanos).ok());
}

TEST(Varint, MatchesGoPutVarint) {
    EXPECT_EQ(encode_varint(12), bytes({0x18}));
    EXPECT_EQ(encode_varint(300), bytes({0xd8, 0x04}));
    EXPECT_EQ(encode_varint(3), bytes({0x06})); // containerd's bolt DB version
    EXPECT_EQ(encode_varint(0), bytes({0x00}));
    EXPECT_EQ(encode_varint(-1), bytes({0x01}));
    EXPECT_EQ(encode_varint(-64), bytes({0x7f}));
    EXPECT_EQ(encode_varint(64), bytes({0x80, 0x01}));
    EXPECT_EQ(encode_varint(std::numeric_limits<std::int64_t>::max()).size(), 10u);
}

TEST(Varint, RoundTrips) {
    for (std::int64_t v :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{12}, std::int64_t{300},
          std::int64_t{1} << 40, -(std::int64_t{1} << 40), std::numeric_limits<std::int64_t>::max(),
          std::numeric_limits<std::int64_t>::min()}) {
        auto back = decode_varint(encode_varint(v));
        ASSERT_TRUE(back.ok()) << v;
        EXPECT_EQ(*back, v);
    }
}

TEST(Varint, RejectsMalformedBytes) {
    EXPECT_FALSE(decode_varint("").ok());
    EXPECT_FALSE(decode_varint(bytes({0x80})).ok());                     // truncated
    EXPECT_FALSE(decode_varint(bytes({0x18, 0x00})).ok());               // trailing
    EXPECT_FALSE(decode_varint(std::string(10, '\xff') + "\x01"s).ok()); // too long
    EXPECT_FALSE(decode_varint(std::string(9, '\xff') + "\x02"s).ok());  // overflows 64 bits
    EXPECT_EQ(decode_varint(bytes({0x80})).error().code(), Errc::DataLoss);
}

} // namespace
} // namespace gantry::metadata
