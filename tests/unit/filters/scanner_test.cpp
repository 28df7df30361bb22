// Token streams from the scanner, including how it resumes after malformed input.
#include "core/filters/scanner.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace gantry::filters::detail {
namespace {

using namespace std::string_literals;

std::string kind_name(TokenKind k) {
    switch (k) {
    case TokenKind::eof:
        return "eof";
    case TokenKind::illegal:
        return "illegal";
    case TokenKind::quoted:
        return "quoted";
    case TokenKind::value:
        return "value";
    case TokenKind::field:
        return "field";
    case TokenKind::separator:
        return "sep";
    case TokenKind::op:
        return "op";
    case TokenKind::other:
        return "other";
    }
    return "?";
}

// "kind@pos:text" per token, space separated, up to and including eof.
std::string tokens(std::string_view input) {
    Scanner s(input);
    std::string out;
    for (int guard = 0; guard < 100; ++guard) {
        const Token t = s.scan();
        if (!out.empty()) out += ' ';
        out += kind_name(t.kind) + "@" + std::to_string(t.pos);
        if (!t.text.empty()) out += ":" + std::string(t.text);
        if (t.kind == TokenKind::eof) break;
    }
    return out;
}

struct Case {
    std::string input;
    std::string tokens;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
    return os << c.input;
}

class ScannerTokens : public ::testing::TestWithParam<Case> {};

TEST_P(ScannerTokens, Splits) {
    EXPECT_EQ(tokens(GetParam().input), GetParam().tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ScannerTokens,
    ::testing::Values(
        Case{"name", "field@0:name eof@4"},
        Case{"name==value,foo!=bar",
             "field@0:name op@4:== value@6:value sep@11:, field@12:foo op@15:!= value@17:bar "
             "eof@20"},
        // An operator token is any run of = ! ~; the parser decides which are valid.
        Case{"a=b", "field@0:a op@1:= value@2:b eof@3"},
        Case{"a!~=b", "field@0:a op@1:!~= value@4:b eof@5"},
        Case{"labels.foo==x.y-z",
             "field@0:labels sep@6:. field@7:foo op@10:== value@12:x.y-z eof@17"},
        Case{"name~=/[abc]{0,2}/,x",
             "field@0:name op@4:~= quoted@6:/[abc]{0,2}/ sep@18:, field@19:x eof@20"},
        Case{"name~=|牛|", "field@0:name op@4:~= quoted@6:|牛| eof@11"},
        Case{"foo = bar    ", "field@0:foo op@4:= value@6:bar eof@13"},
        // After a value, field characters are a field again.
        Case{"a=b c", "field@0:a op@1:= value@2:b field@4:c eof@5"},
        Case{"\"q\".x", "quoted@0:\"q\" sep@3:. field@4:x eof@5"}, Case{"?", "other@0 eof@1"},
        // Malformed input yields an illegal token and scanning goes on after it.
        Case{"foo\0bar"s, "field@0:foo illegal@3 field@4:bar eof@7"},
        Case{"a.b/c==d", "field@0:a sep@1:. field@2:b illegal@3:/c==d eof@8"},
        Case{"x.\"a\nb\"==v", "field@0:x sep@1:. illegal@2:\"a\n field@5:b illegal@6:\"==v eof@10"},
        Case{R"(x."\g")", R"(field@0:x sep@1:. illegal@2:"\g" eof@6)"}));

TEST(Scanner, FirstErrorSticks) {
    Scanner s(R"("\g" "\x")");
    EXPECT_EQ(s.scan().kind, TokenKind::illegal);
    EXPECT_EQ(s.error(), "illegal escape sequence");
    EXPECT_EQ(s.scan().kind, TokenKind::illegal);
    EXPECT_EQ(s.error(), "illegal escape sequence");
}

TEST(Scanner, PeekDoesNotConsumeButRecordsErrors) {
    Scanner s("a\xff");
    EXPECT_EQ(s.scan().kind, TokenKind::field); // stops at the bad byte, having peeked at it
    EXPECT_EQ(s.error(), "rune error");
    EXPECT_EQ(s.peek(), kIllegal);
    EXPECT_EQ(s.consumed(), 1u);
}

} // namespace
} // namespace gantry::filters::detail
