// Character classes of the filter language, decided the way Go's unicode and utf8 packages decide
// them: containerd's scanner is written against those packages, so a filter is split into tokens
// at the same places only if the same code points count as space, graphic or malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gantry::filters::detail {

inline constexpr std::int32_t kRuneError = 0xFFFD;

struct DecodedRune {
    std::int32_t rune;
    std::size_t width; // bytes consumed; 0 only for empty input
};

// Go's utf8.DecodeRuneInString: a malformed sequence (bad lead byte, short, overlong, surrogate,
// beyond U+10FFFF) yields {kRuneError, 1}; empty input yields {kRuneError, 0}.
DecodedRune decode_rune(std::string_view s) noexcept;

// Go's utf8.EncodeRune: surrogates and values beyond U+10FFFF are written as U+FFFD.
void append_rune(std::string& out, std::int32_t rune);

// Go's unicode.IsSpace.
bool is_space(std::int32_t rune) noexcept;

// Go's unicode.IsGraphic: letters, marks, numbers, punctuation, symbols and Zs spaces.
bool is_graphic(std::int32_t rune) noexcept;

} // namespace gantry::filters::detail
