#include "cmd/gantry/duration.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace gantry::cli {
namespace {

// Longest units first, so that "ms" is not read as "m" followed by garbage.
constexpr std::array<std::pair<std::string_view, double>, 7> kUnits{{
    {"ns", 1.0},
    {"us", 1e3},
    {"\xC2\xB5s", 1e3}, // µs
    {"ms", 1e6},
    {"h", 3600e9},
    {"m", 60e9},
    {"s", 1e9},
}};

Error bad(std::string_view text, std::string_view why) {
    return invalid_argument("invalid duration \"" + std::string(text) + "\": " + std::string(why));
}

} // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    if (text == "0") return std::chrono::nanoseconds{0};
    if (text.empty()) return bad(text, "empty");
    std::string_view rest = text;
    if (rest.front() == '+') rest.remove_prefix(1);
    double total = 0;
    while (!rest.empty()) {
        std::size_t digits = 0;
        bool seen_digit = false, seen_dot = false;
        for (; digits < rest.size(); ++digits) {
            const char c = rest[digits];
            if (c >= '0' && c <= '9') {
                seen_digit = true;
            } else if (c == '.' && !seen_dot) {
                seen_dot = true;
            } else {
                break;
            }
        }
        if (!seen_digit) return bad(text, "expected a number such as 10s or 1m30s");
        const double number = std::stod(std::string(rest.substr(0, digits)));
        rest.remove_prefix(digits);
        double scale = 0;
        for (const auto& [unit, ns] : kUnits) {
            if (rest.substr(0, unit.size()) == unit) {
                scale = ns;
                rest.remove_prefix(unit.size());
                break;
            }
        }
        if (scale == 0) return bad(text, "missing or unknown unit (use ns, us, ms, s, m or h)");
        total += number * scale;
    }
    if (total > static_cast<double>(std::numeric_limits<std::int64_t>::max()))
        return bad(text, "too large");
    return std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(total))};
}

} // namespace gantry::cli
