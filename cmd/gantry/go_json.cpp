#include "cmd/gantry/go_json.hpp"

#include <chrono>
#include <cstdio>

namespace gantry::cli {

namespace {

// The length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (Go's
// utf8.DecodeRuneInString: overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    std::size_t n = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(k) & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void write_value(std::string& out, const nlohmann::ordered_json& v, std::size_t depth) {
    const auto newline = [&](std::size_t d) {
        out.push_back('\n');
        out.append(d * 4, ' ');
    };
    switch (v.type()) {
    case nlohmann::json::value_t::object: {
        if (v.empty()) {
            out += "{}";
            return;
        }
        out.push_back('{');
        bool first = true;
        for (const auto& [key, member] : v.items()) {
            if (!first) out.push_back(',');
            first = false;
            newline(depth + 1);
            out += go_json_quote(key);
            out += ": ";
            write_value(out, member, depth + 1);
        }
        newline(depth);
        out.push_back('}');
        return;
    }
    case nlohmann::json::value_t::array: {
        if (v.empty()) {
            out += "[]";
            return;
        }
        out.push_back('[');
        bool first = true;
        for (const auto& element : v) {
            if (!first) out.push_back(',');
            first = false;
            newline(depth + 1);
            write_value(out, element, depth + 1);
        }
        newline(depth);
        out.push_back(']');
        return;
    }
    case nlohmann::json::value_t::string:
        out += go_json_quote(v.get_ref<const std::string&>());
        return;
    default: // numbers, booleans, null: the same text in both
        out += v.dump();
        return;
    }
}

} // namespace

std::string go_json_indent(const nlohmann::ordered_json& value) {
    std::string out;
    write_value(out, value, 0);
    return out;
}

std::string go_json_quote(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
            case '"':
            case '\\':
                out.push_back('\\');
                out.push_back(static_cast<char>(c));
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                    out += "\\u00";
                    out.push_back(kHex[c >> 4]);
                    out.push_back(kHex[c & 0xf]);
                } else {
                    out.push_back(static_cast<char>(c));
                }
            }
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const std::size_t n = utf8_sequence(s, i, cp);
        if (n == 0) {
            out += "\\ufffd";
            ++i;
        } else if (cp == 0x2028 || cp == 0x2029) {
            out += cp == 0x2028 ? "\\u2028" : "\\u2029";
            i += n;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    out.push_back('"');
    return out;
}

namespace {

// "2006-01-02<sep>15:04:05[.fraction]" in UTC, the fraction without trailing zeros.
std::string go_date_time(std::int64_t unix_seconds, std::int32_t nanos, char sep) {
    using namespace std::chrono;
    const sys_seconds t{seconds(unix_seconds)};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u%c%02d:%02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), sep,
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    std::string out = buf;
    if (nanos > 0) {
        std::snprintf(buf, sizeof buf, ".%09d", nanos);
        std::string frac = buf;
        while (frac.back() == '0')
            frac.pop_back();
        out += frac;
    }
    return out;
}

} // namespace

std::string go_rfc3339_nano(std::int64_t unix_seconds, std::int32_t nanos) {
    return go_date_time(unix_seconds, nanos, 'T') + "Z";
}

std::string go_time_string(std::int64_t unix_seconds, std::int32_t nanos) {
    return go_date_time(unix_seconds, nanos, ' ') + " +0000 UTC";
}

std::string base64_std(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t v = at(i) << 16;
        if (rest == 2) v |= at(i + 1) << 8;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

} // namespace gantry::cli
