// A recursive-descent parser over Scanner tokens. It mirrors containerd 1.6's parser decision for
// decision, because the accepted language and the error texts are what clients observe:
//   - whitespace is skipped only where a token starts, so `name ==x` parses but `name==x ,y` and a
//     trailing space fail with "unexpected input";
//   - `|` is a quote character, not an OR: `name==a|b` compares with the value "a|b";
//   - `/…/` and `|…|` scan as quoted strings anywhere but are accepted only as a `~=` value;
//   - an unquoted value cannot start with `.` or `,`, so `name~=.*` must be written `name~=".*"`;
//   - each error points at a byte offset, the location is that single byte.
#include "core/filters/filter.hpp"
#include "core/filters/runes.hpp"
#include "core/filters/scanner.hpp"
#include "core/filters/unquote.hpp"

namespace gantry::filters {

namespace {

using detail::kEof;
using detail::kIllegal;
using detail::Token;
using detail::TokenKind;

class Parser {
public:
    explicit Parser(std::string_view input) : input_(input), scanner_(input) {}

    Result<Conjunction> parse() {
        Conjunction all;
        GANTRY_ASSIGN_OR_RETURN(Selector first, selector());
        all.push_back(std::move(first));
        for (;;) {
            const std::int32_t r = scanner_.peek();
            if (r == kEof) return all;
            if (r != ',') return fail(scanner_.consumed(), "unexpected input: " + rune_text(r));
            const Token sep = scanner_.scan();
            if (sep.kind != TokenKind::separator) return fail(sep.pos, "expected a separator");
            GANTRY_ASSIGN_OR_RETURN(Selector next, selector());
            all.push_back(std::move(next));
        }
    }

private:
    Result<Selector> selector() {
        GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> path, fieldpath());
        const std::int32_t r = scanner_.peek();
        if (r == ',' || r == kEof) return Selector(std::move(path), Operator::present);
        GANTRY_ASSIGN_OR_RETURN(Operator op, operator_());
        GANTRY_ASSIGN_OR_RETURN(std::string value, value_(op == Operator::matches));
        return Selector(std::move(path), op, std::move(value));
    }

    Result<std::vector<std::string>> fieldpath() {
        std::vector<std::string> path;
        GANTRY_ASSIGN_OR_RETURN(std::string first, field());
        path.push_back(std::move(first));
        while (scanner_.peek() == '.') {
            const Token sep = scanner_.scan();
            if (sep.kind != TokenKind::separator)
                return fail(sep.pos, "expected a field separator (`.`)");
            GANTRY_ASSIGN_OR_RETURN(std::string next, field());
            path.push_back(std::move(next));
        }
        return path;
    }

    Result<std::string> field() {
        const Token t = scanner_.scan();
        switch (t.kind) {
        case TokenKind::field:
            return std::string(t.text);
        case TokenKind::quoted:
            return unquote_at(t, false);
        case TokenKind::illegal:
            return fail(t.pos, scanner_.error());
        default:
            return fail(t.pos, "expected field or quoted");
        }
    }

    Result<Operator> operator_() {
        const Token t = scanner_.scan();
        switch (t.kind) {
        case TokenKind::op:
            if (t.text == "==") return Operator::equal;
            if (t.text == "!=") return Operator::not_equal;
            if (t.text == "~=") return Operator::matches;
            return fail(t.pos, "unsupported operator \"" + std::string(t.text) + "\"");
        case TokenKind::illegal:
            return fail(t.pos, scanner_.error());
        default:
            return fail(t.pos, R"(expected an operator ("=="|"!="|"~="))");
        }
    }

    Result<std::string> value_(bool allow_regexp_quotes) {
        const Token t = scanner_.scan();
        switch (t.kind) {
        case TokenKind::value:
        case TokenKind::field:
            return std::string(t.text);
        case TokenKind::quoted:
            return unquote_at(t, allow_regexp_quotes);
        case TokenKind::illegal:
            return fail(t.pos, scanner_.error());
        default:
            return fail(t.pos, "expected value or quoted");
        }
    }

    Result<std::string> unquote_at(const Token& t, bool allow_regexp_quotes) {
        if (!allow_regexp_quotes && t.text.front() != '"' && t.text.front() != '\'')
            return fail(t.pos, "invalid quote encountered");
        std::optional<std::string> text = detail::unquote(t.text);
        if (!text) return fail(t.pos, "unquoting failed: quote syntax error");
        return std::move(*text);
    }

    // What Go prints for string(rune): the code point as UTF-8, U+FFFD for a pseudo-rune.
    static std::string rune_text(std::int32_t r) {
        std::string out;
        detail::append_rune(out, r == kIllegal ? detail::kRuneError : r);
        return out;
    }

    Error fail(std::size_t pos, std::string_view reason) const {
        std::string message = "filters: parse error: [";
        if (pos < input_.size()) {
            message.append(input_.substr(0, pos));
            message.append(" >|");
            message.append(input_.substr(pos, 1));
            message.append("|< ");
            message.append(input_.substr(pos + 1));
        } else {
            message.append(input_);
        }
        message.append("]: ");
        message.append(reason);
        return invalid_argument(std::move(message));
    }

    std::string_view input_;
    detail::Scanner scanner_;
};

} // namespace

Result<Filter> parse_one(std::string_view filter) {
    if (filter.empty()) return Filter();
    GANTRY_ASSIGN_OR_RETURN(Conjunction all, Parser(filter).parse());
    std::vector<Conjunction> alternatives;
    alternatives.push_back(std::move(all));
    return Filter(std::move(alternatives));
}

Result<Filter> parse(std::span<const std::string_view> filters) {
    std::vector<Conjunction> alternatives;
    alternatives.reserve(filters.size());
    for (std::string_view f : filters) {
        // An empty string is an alternative that matches everything, but the strings after it
        // are still parsed: any syntax error fails the whole request, as in containerd.
        if (f.empty()) {
            alternatives.emplace_back();
            continue;
        }
        GANTRY_ASSIGN_OR_RETURN(Conjunction all, Parser(f).parse());
        alternatives.push_back(std::move(all));
    }
    return Filter(std::move(alternatives));
}

Result<Filter> parse(std::span<const std::string> filters) {
    std::vector<std::string_view> views(filters.begin(), filters.end());
    return parse(std::span<const std::string_view>(views));
}

} // namespace gantry::filters
