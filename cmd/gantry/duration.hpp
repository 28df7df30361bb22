// Durations on the command line are written as ctr (Go) writes them: "10s", "1m30s", "250ms".
#pragma once

#include "core/errors.hpp"

#include <chrono>
#include <string_view>

namespace gantry::cli {

// Accepts a sequence of <number><unit> terms, the number possibly with a fraction, the unit one of
// ns, us, µs, ms, s, m, h; a bare "0" is zero. Negative durations are refused.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

} // namespace gantry::cli
