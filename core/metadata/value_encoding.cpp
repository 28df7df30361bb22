#include "core/metadata/value_encoding.hpp"

namespace gantry::metadata {

namespace {

// Seconds from 0001-01-01T00:00:00Z (Go's internal epoch) to the Unix epoch.
constexpr std::int64_t kUnixToGoSeconds = 62135596800;
constexpr std::int32_t kNanosPerSecond = 1'000'000'000;

void put_be(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
        out.push_back(static_cast<char>(v >> (8 * i)));
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v = (v << 8) | static_cast<unsigned char>(in[at + i]);
    return v;
}

Error malformed(std::string_view what) {
    return Error(Errc::DataLoss, "metadata: malformed " + std::string(what));
}

} // namespace

Timestamp to_timestamp(std::chrono::system_clock::time_point t) noexcept {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    std::int64_t seconds = ns / kNanosPerSecond;
    std::int64_t nanos = ns % kNanosPerSecond;
    if (nanos < 0) {
        nanos += kNanosPerSecond;
        --seconds;
    }
    return {seconds, static_cast<std::int32_t>(nanos)};
}

std::chrono::system_clock::time_point to_time_point(Timestamp t) noexcept {
    auto d = std::chrono::seconds(t.seconds) + std::chrono::nanoseconds(t.nanos);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(d));
}

std::string encode_time(Timestamp t) {
    std::string out;
    out.reserve(15);
    out.push_back('\x01');
    put_be(out, static_cast<std::uint64_t>(t.seconds + kUnixToGoSeconds), 8);
    put_be(out, static_cast<std::uint32_t>(t.nanos), 4);
    put_be(out, 0xffff, 2); // UTC, as containerd always writes
    return out;
}

Result<Timestamp> decode_time(std::string_view bytes) {
    if (bytes.empty()) return malformed("time: empty");
    const auto version = static_cast<unsigned char>(bytes[0]);
    if (!((version == 1 && bytes.size() == 15) || (version == 2 && bytes.size() == 16)))
        return malformed("time: unknown version or length");
    auto go_seconds = static_cast<std::int64_t>(get_be(bytes, 1, 8));
    auto nanos = static_cast<std::int32_t>(get_be(bytes, 9, 4));
    if (nanos < 0 || nanos >= kNanosPerSecond) return malformed("time: nanoseconds out of range");
    return Timestamp{go_seconds - kUnixToGoSeconds, nanos};
}

std::string encode_varint(std::int64_t v) {
    auto ux = static_cast<std::uint64_t>(v) << 1;
    if (v < 0) ux = ~ux;
    std::string out;
    while (ux >= 0x80) {
        out.push_back(static_cast<char>((ux & 0x7f) | 0x80));
        ux >>= 7;
    }
    out.push_back(static_cast<char>(ux));
    return out;
}

Result<std::int64_t> decode_varint(std::string_view bytes) {
    std::uint64_t ux = 0;
    int shift = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        // The tenth byte may only carry the top bit of 64.
        if (i == 9 && b > 1) return malformed("varint: overflows 64 bits");
        ux |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if (b < 0x80) {
            if (i + 1 != bytes.size()) return malformed("varint: trailing bytes");
            auto x = static_cast<std::int64_t>(ux >> 1);
            if (ux & 1) x = ~x;
            return x;
        }
        shift += 7;
    }
    return malformed("varint: truncated");
}

} // namespace gantry::metadata
