// The byte encodings containerd's bolt store uses for values (protocol-facts.md §5.2), so our
// records hold the same bytes for the same fields.
#pragma once

#include "core/errors.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace gantry::metadata {

// An instant as protobuf carries it: seconds since the Unix epoch and nanoseconds within it.
struct Timestamp {
    std::int64_t seconds = 0;
    std::int32_t nanos = 0; // 0 ..< 1e9

    bool operator==(const Timestamp&) const = default;
    auto operator<=>(const Timestamp&) const = default;
};

Timestamp to_timestamp(std::chrono::system_clock::time_point t) noexcept;
std::chrono::system_clock::time_point to_time_point(Timestamp t) noexcept;

// Go's time.MarshalBinary, version 1, in UTC: 01, int64 seconds since 0001-01-01, int32 nanos,
// int16 zone offset in minutes (-1 = UTC), all big-endian: 15 bytes.
std::string encode_time(Timestamp t);
// Accepts version 1 and Go's version 2 (16 bytes, offset with seconds). The zone offset does not
// change the instant and is ignored. Malformed bytes → DataLoss.
Result<Timestamp> decode_time(std::string_view bytes);

// Go's binary.PutVarint: zigzag, then base-128 little-endian groups.
std::string encode_varint(std::int64_t v);
// The whole input must be one varint; anything else → DataLoss.
Result<std::int64_t> decode_varint(std::string_view bytes);

} // namespace gantry::metadata
