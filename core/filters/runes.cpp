#include "core/filters/runes.hpp"

#include <re2/re2.h>

namespace gantry::filters::detail {

DecodedRune decode_rune(std::string_view s) noexcept {
    if (s.empty()) return {kRuneError, 0};
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) return {lead, 1};

    // The lead byte fixes the length and narrows the range of the second byte, which is how
    // overlong forms, surrogates and values past U+10FFFF are refused.
    std::size_t length = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    std::int32_t rune = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        rune = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        rune = lead & 0x0F;
        if (lead == 0xE0) lo = 0xA0;
        if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        rune = lead & 0x07;
        if (lead == 0xF0) lo = 0x90;
        if (lead == 0xF4) hi = 0x8F;
    } else {
        return {kRuneError, 1};
    }
    if (s.size() < length) return {kRuneError, 1};
    if (byte(1) < lo || byte(1) > hi) return {kRuneError, 1};
    rune = (rune << 6) | (byte(1) & 0x3F);
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) return {kRuneError, 1};
        rune = (rune << 6) | (byte(i) & 0x3F);
    }
    return {rune, length};
}

void append_rune(std::string& out, std::int32_t rune) {
    if (rune < 0 || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) rune = kRuneError;
    const auto put = [&](std::int32_t v) { out.push_back(static_cast<char>(v)); };
    if (rune < 0x80) {
        put(rune);
    } else if (rune < 0x800) {
        put(0xC0 | (rune >> 6));
        put(0x80 | (rune & 0x3F));
    } else if (rune < 0x10000) {
        put(0xE0 | (rune >> 12));
        put(0x80 | ((rune >> 6) & 0x3F));
        put(0x80 | (rune & 0x3F));
    } else {
        put(0xF0 | (rune >> 18));
        put(0x80 | ((rune >> 12) & 0x3F));
        put(0x80 | ((rune >> 6) & 0x3F));
        put(0x80 | (rune & 0x3F));
    }
}

bool is_space(std::int32_t rune) noexcept {
    switch (rune) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return rune >= 0x2000 && rune <= 0x200A;
    }
}

bool is_graphic(std::int32_t rune) noexcept {
    if (rune < 0) return false;
    if (rune < 0x80) return rune >= 0x20 && rune < 0x7F;
    // RE2 carries the same Unicode category tables as Go's regexp, which is the closest thing to
    // Go's unicode package available here; only non-ASCII input, which is rare, pays for it.
    static const re2::RE2 graphic(R"([\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}])");
    std::string encoded;
    append_rune(encoded, rune);
    return re2::RE2::FullMatch(encoded, graphic);
}

} // namespace gantry::filters::detail
