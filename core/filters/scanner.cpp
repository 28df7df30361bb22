#include "core/filters/scanner.hpp"

#include "core/filters/runes.hpp"

namespace gantry::filters::detail {

namespace {

bool is_field_rune(std::int32_t r) {
    return r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9');
}
bool is_operator_rune(std::int32_t r) {
    return r == '=' || r == '!' || r == '~';
}
bool is_quote_rune(std::int32_t r) {
    return r == '"' || r == '/' || r == '|';
}
bool is_separator_rune(std::int32_t r) {
    return r == ',' || r == '.';
}
bool is_value_rune(std::int32_t r) {
    return r != ',' && !is_space(r) && is_graphic(r);
}

int digit_value(std::int32_t r) {
    if (r >= '0' && r <= '9') return r - '0';
    if (r >= 'a' && r <= 'f') return r - 'a' + 10;
    if (r >= 'A' && r <= 'F') return r - 'A' + 10;
    return 16; // above every base in use
}

} // namespace

std::int32_t Scanner::next() {
    // containerd tests the start of the previous code point here, not its end; the outcome is the
    // same (end of input) either way, but start_ only moves forward when there is more to read.
    if (start_ >= input_.size()) return kEof;
    start_ = end_;
    const DecodedRune d = decode_rune(input_.substr(end_));
    end_ += d.width;
    if (d.rune == kRuneError) {
        if (d.width == 0) return kEof;
        // A correctly encoded U+FFFD is refused too: Go cannot tell it from a decoding failure.
        fail("rune error");
        return kIllegal;
    }
    if (d.rune == 0) {
        fail("unexpected null");
        return kIllegal;
    }
    return d.rune;
}

std::int32_t Scanner::peek() {
    const std::size_t start = start_, end = end_;
    const std::int32_t r = next();
    start_ = start;
    end_ = end;
    return r;
}

void Scanner::fail(std::string_view message) {
    if (error_.empty()) error_ = message;
}

template <typename Pred>
void Scanner::consume_while(Pred pred) {
    while (pred(peek()))
        next();
}

Token Scanner::scan() {
    std::int32_t ch = next();
    std::size_t pos = start_;
    while (is_space(ch)) {
        ch = next();
        pos = start_;
    }
    const auto text = [&] { return input_.substr(pos, end_ - pos); };

    if (ch == kEof) return {TokenKind::eof, start_, {}};
    if (ch == kIllegal) return {TokenKind::illegal, start_, {}};
    if (is_quote_rune(ch)) {
        const bool ok = scan_quoted(ch);
        return {ok ? TokenKind::quoted : TokenKind::illegal, pos, text()};
    }
    if (is_separator_rune(ch)) {
        expect_value_ = false;
        return {TokenKind::separator, pos, text()};
    }
    if (is_operator_rune(ch)) {
        consume_while(is_operator_rune);
        expect_value_ = true;
        return {TokenKind::op, pos, text()};
    }
    // After an operator anything else starts a value, even a character that could not continue
    // one; only then do field characters stop meaning a field.
    if (expect_value_) {
        consume_while(is_value_rune);
        expect_value_ = false;
        return {TokenKind::value, pos, text()};
    }
    if (is_field_rune(ch)) {
        consume_while(is_field_rune);
        return {TokenKind::field, pos, text()};
    }
    return {TokenKind::other, start_, {}, ch};
}

bool Scanner::scan_quoted(std::int32_t quote) {
    bool illegal = false;
    std::int32_t ch = next();
    while (ch != quote) {
        if (ch == '\n' || ch < 0) {
            fail("quoted literal not terminated");
            return false;
        }
        if (ch == '\\') {
            bool legal = true;
            ch = scan_escape(quote, legal);
            illegal = illegal || !legal;
        } else {
            ch = next();
        }
    }
    return !illegal;
}

// Returns the code point after the escape, which the caller examines next. A bad escape does not
// stop the scan: the literal still runs to its closing quote, then counts as illegal.
std::int32_t Scanner::scan_escape(std::int32_t quote, bool& legal) {
    const std::int32_t ch = next();
    switch (ch) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\':
        legal = true;
        return next();
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        return scan_digits(ch, 8, 3, legal);
    case 'x':
        return scan_digits(next(), 16, 2, legal);
    case 'u':
        return scan_digits(next(), 16, 4, legal);
    case 'U':
        return scan_digits(next(), 16, 8, legal);
    default:
        if (ch == quote) {
            legal = true;
            return next();
        }
        fail("illegal escape sequence");
        legal = false;
        return ch;
    }
}

std::int32_t Scanner::scan_digits(std::int32_t ch, int base, int count, bool& legal) {
    while (count > 0 && digit_value(ch) < base) {
        ch = next();
        --count;
    }
    legal = count == 0;
    if (!legal) fail("illegal numeric escape sequence");
    return ch;
}

} // namespace gantry::filters::detail
