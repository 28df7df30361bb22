#include "core/metadata/go_quote.hpp"

#include <cstdint>
#include <optional>

namespace gantry::metadata {

namespace {

struct Rune {
    char32_t value;
    std::size_t width;
};

// One UTF-8 sequence at the start of `s`; nullopt when invalid (bad lead or continuation byte,
// overlong form, surrogate, beyond U+10FFFF).
std::optional<Rune> decode_utf8(std::string_view s) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    std::size_t width = 0;
    char32_t r = 0;
    char32_t min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        width = 2, r = b0 & 0x1f, min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        width = 3, r = b0 & 0x0f, min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        width = 4, r = b0 & 0x07, min = 0x10000;
    } else {
        return std::nullopt;
    }
    if (s.size() < width) return std::nullopt;
    for (std::size_t i = 1; i < width; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xc0) != 0x80) return std::nullopt;
        r = (r << 6) | (b & 0x3f);
    }
    if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return std::nullopt;
    return Rune{r, width};
}

bool printable(char32_t r) {
    if (r < 0x80) return r >= 0x20 && r < 0x7f;
    if (r < 0xa1) return false; // C1 controls and NO-BREAK SPACE
    if (r == 0xad || r == 0x1680 || r == 0x3000 || r == 0xfeff) return false;
    if (r >= 0x2000 && r <= 0x200f) return false;
    if (r >= 0x2028 && r <= 0x202f) return false;
    if (r >= 0x205f && r <= 0x206f) return false;
    if (r >= 0xe000 && r <= 0xf8ff) return false;
    if ((r >= 0xfff9 && r <= 0xfffb) || r == 0xfffe || r == 0xffff) return false;
    if (r >= 0xf0000) return false;
    return true;
}

void append_hex(std::string& out, std::uint32_t v, int digits) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i)
        out.push_back(kDigits[(v >> (4 * i)) & 0xf]);
}

} // namespace

std::string go_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        Rune rune{b, 1};
        if (b >= 0x80) {
            auto decoded = decode_utf8(s.substr(i));
            if (!decoded) {
                out += "\\x";
                append_hex(out, b, 2);
                ++i;
                continue;
            }
            rune = *decoded;
        }
        const char32_t r = rune.value;
        if (r == '"' || r == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(r));
        } else if (printable(r)) {
            out.append(s.substr(i, rune.width));
        } else {
            switch (r) {
            case '\a':
                out += "\\a";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
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
            case '\v':
                out += "\\v";
                break;
            default:
                if (r < 0x20 || r == 0x7f) {
                    out += "\\x";
                    append_hex(out, r, 2);
                } else if (r < 0x10000) {
                    out += "\\u";
                    append_hex(out, r, 4);
                } else {
                    out += "\\U";
                    append_hex(out, r, 8);
                }
            }
        }
        i += rune.width;
    }
    out.push_back('"');
    return out;
}

} // namespace gantry::metadata
