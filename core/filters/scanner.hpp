// The tokenizer of containerd's filter language. Its quirks are part of the wire contract: which
// characters end a value, that whitespace is skipped only at the start of a token, that `/…/` and
// `|…|` are scanned as quoted strings anywhere, and that the first error it meets is the one the
// parser reports. Positions are byte offsets into the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gantry::filters::detail {

// Pseudo-runes returned by Scanner::peek() next to real code points.
inline constexpr std::int32_t kEof = -1;
inline constexpr std::int32_t kIllegal = -2;

enum class TokenKind {
    eof,
    illegal,   // malformed input; Scanner::error() says why
    quoted,    // "…", /…/ or |…|, quotes included in the text
    value,     // an unquoted value: what follows an operator
    field,     // a run of [A-Za-z0-9_]
    separator, // `,` or `.`
    op,        // a run of `=`, `!` and `~`
    other,     // any other single code point, in `rune`
};

struct Token {
    TokenKind kind;
    std::size_t pos;
    std::string_view text; // empty for eof, other, and illegal runes outside quotes
    std::int32_t rune = 0; // the code point of an `other` token
};

class Scanner {
public:
    explicit Scanner(std::string_view input) noexcept : input_(input) {}

    Token scan();
    // The next code point (or kEof / kIllegal) without consuming it. Whitespace is not skipped.
    std::int32_t peek();
    // The offset just past the last consumed code point.
    std::size_t consumed() const noexcept { return end_; }
    // The first error met so far, including errors met while peeking; it is never cleared.
    const std::string& error() const noexcept { return error_; }

private:
    std::int32_t next();
    bool scan_quoted(std::int32_t quote);
    std::int32_t scan_escape(std::int32_t quote, bool& legal);
    std::int32_t scan_digits(std::int32_t ch, int base, int count, bool& legal);
    template <typename Pred>
    void consume_while(Pred pred);
    void fail(std::string_view message);

    std::string_view input_;
    std::size_t start_ = 0; // where the current code point starts
    std::size_t end_ = 0;   // just past it
    bool expect_value_ = false;
    std::string error_;
};

} // namespace gantry::filters::detail
