// JSON written the way ctr writes it: Go's json.MarshalIndent(v, "", "    "), so that
// `gantry containers info` prints what `ctr containers info` prints for the same container.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace gantry::cli {

// `value` laid out as Go's MarshalIndent with a four-space indent: members in the order the
// value holds them, "key": value, empty objects and arrays as {} and [], no trailing newline.
std::string go_json_indent(const nlohmann::ordered_json& value);

// A JSON string literal escaped as Go's encoding/json escapes it: \" \\ \n \r \t, other control
// bytes and HTML's < > & as \u00xx, U+2028 and U+2029 as \u2028 and \u2029, and each byte of
// invalid UTF-8 as \ufffd.
std::string go_json_quote(std::string_view s);

// Go's time.Time in JSON: RFC 3339 with nanoseconds, trailing zeros of the fraction dropped, in
// UTC ("2026-11-23T12:51:15.560123948Z"; a whole second has no fraction).
std::string go_rfc3339_nano(std::int64_t unix_seconds, std::int32_t nanos);

// Go's time.Time.String() in UTC, as ctr prints timestamps in tables and event lines:
// "2006-01-02 15:04:05.999999999 +0000 UTC" (fraction without trailing zeros, none if whole).
std::string go_time_string(std::int64_t unix_seconds, std::int32_t nanos);

// Standard base64 with padding, as Go's json encodes []byte.
std::string base64_std(std::string_view bytes);

} // namespace gantry::cli
