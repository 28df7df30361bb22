#include "core/filters/unquote.hpp"

#include "core/filters/runes.hpp"

#include <cstdint>

namespace gantry::filters::detail {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes one character or escape from the front of `s` into `out` and drops it from `s`.
bool unquote_one(std::string_view& s, char quote, std::string& out) {
    const char c = s.front();
    if (c == quote) return false; // an unescaped quote inside the literal
    if (static_cast<unsigned char>(c) >= 0x80) {
        const DecodedRune d = decode_rune(s);
        append_rune(out, d.rune);
        s.remove_prefix(d.width);
        return true;
    }
    if (c != '\\') {
        out.push_back(c);
        s.remove_prefix(1);
        return true;
    }
    if (s.size() < 2) return false;
    const char kind = s[1];
    s.remove_prefix(2);
    switch (kind) {
    case 'a':
        out.push_back('\a');
        return true;
    case 'b':
        out.push_back('\b');
        return true;
    case 'f':
        out.push_back('\f');
        return true;
    case 'n':
        out.push_back('\n');
        return true;
    case 'r':
        out.push_back('\r');
        return true;
    case 't':
        out.push_back('\t');
        return true;
    case 'v':
        out.push_back('\v');
        return true;
    case '\\':
        out.push_back('\\');
        return true;
    case '\'':
    case '"':
    case '|':
    case '/':
        // Only the literal's own quote may be escaped.
        if (kind != quote) return false;
        out.push_back(kind);
        return true;
    case 'x':
    case 'u':
    case 'U': {
        const std::size_t digits = kind == 'x' ? 2 : kind == 'u' ? 4 : 8;
        if (s.size() < digits) return false;
        std::int64_t v = 0;
        for (std::size_t i = 0; i < digits; ++i) {
            const int h = hex_value(s[i]);
            if (h < 0) return false;
            v = (v << 4) | h;
        }
        s.remove_prefix(digits);
        // \x names a byte, which may leave the result invalid UTF-8; \u and \U name code points.
        if (kind == 'x') {
            out.push_back(static_cast<char>(v));
        } else if (v > 0x10FFFF) {
            return false;
        } else {
            append_rune(out, static_cast<std::int32_t>(v));
        }
        return true;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
        int v = kind - '0';
        if (s.size() < 2) return false;
        for (std::size_t i = 0; i < 2; ++i) {
            const int d = s[i] - '0';
            if (d < 0 || d > 7) return false;
            v = (v << 3) | d;
        }
        s.remove_prefix(2);
        if (v > 255) return false;
        out.push_back(static_cast<char>(v));
        return true;
    }
    default:
        return false;
    }
}

} // namespace

std::optional<std::string> unquote(std::string_view quoted) {
    if (quoted.size() < 2) return std::nullopt;
    const char quote = quoted.front();
    if (quoted.back() != quote) return std::nullopt;
    if (quote != '"' && quote != '\'' && quote != '/' && quote != '|') return std::nullopt;
    std::string_view body = quoted.substr(1, quoted.size() - 2);
    if (body.find('\n') != std::string_view::npos) return std::nullopt;

    const bool plain =
        body.find('\\') == std::string_view::npos && body.find(quote) == std::string_view::npos;
    if (plain && quote != '\'') return std::string(body);

    std::string out;
    out.reserve(body.size());
    while (!body.empty()) {
        if (!unquote_one(body, quote, out)) return std::nullopt;
        // A single-quoted literal holds exactly one character.
        if (quote == '\'' && !body.empty()) return std::nullopt;
    }
    return out;
}

} // namespace gantry::filters::detail
