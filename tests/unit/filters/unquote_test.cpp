// Go-style unquoting with containerd's extra quote characters.
#include "core/filters/unquote.hpp"

#include <gtest/gtest.h>
#include <string>

namespace gantry::filters::detail {
namespace {

using namespace std::string_literals;

TEST(Unquote, PlainContentIsKept) {
    EXPECT_EQ(unquote(R"("abc")"), "abc");
    EXPECT_EQ(unquote(R"(/a"b/)"), "a\"b");
    EXPECT_EQ(unquote("|a/b|"), "a/b");
    EXPECT_EQ(unquote(R"("")"), "");
    EXPECT_EQ(unquote("\"牛\""), "牛");
}

TEST(Unquote, GoEscapes) {
    EXPECT_EQ(unquote(R"("\a\b\f\n\r\t\v\\")"), "\a\b\f\n\r\t\v\\");
    EXPECT_EQ(unquote(R"("\x41\x7a")"), "Az");
    EXPECT_EQ(unquote(R"("\101\172\000")"), "Az"s + '\0');
    EXPECT_EQ(unquote(R"("\u00e9\U0001F600")"), "é😀");
    EXPECT_EQ(unquote(R"("\u0041")"), "A");
    EXPECT_EQ(unquote(R"("\xe9")"), "\xe9"); // a byte, not U+00E9
    EXPECT_EQ(unquote(R"("\udfff")"), "\uFFFD");
}

TEST(Unquote, OnlyTheLiteralsOwnQuoteIsEscapable) {
    EXPECT_EQ(unquote(R"("\"")"), "\"");
    EXPECT_EQ(unquote(R"(/\//)"), "/");
    EXPECT_EQ(unquote(R"(|\||)"), "|");
    EXPECT_EQ(unquote(R"("\/")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\|")"), std::nullopt);
    EXPECT_EQ(unquote(R"(/\"/)"), std::nullopt);
    EXPECT_EQ(unquote(R"("\'")"), std::nullopt);
}

TEST(Unquote, SyntaxErrors) {
    EXPECT_EQ(unquote("\""), std::nullopt);
    EXPECT_EQ(unquote(R"("abc/)"), std::nullopt);
    EXPECT_EQ(unquote("\"a\nb\""), std::nullopt);
    EXPECT_EQ(unquote(R"("a"b")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\q")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\x4")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\xg0")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\400")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\18")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\U00110000")"), std::nullopt);
    EXPECT_EQ(unquote(R"("\")"), std::nullopt);
}

TEST(Unquote, SingleQuotesHoldOneCharacter) {
    EXPECT_EQ(unquote("'a'"), "a");
    EXPECT_EQ(unquote("'é'"), "é");
    EXPECT_EQ(unquote(R"('\n')"), "\n");
    EXPECT_EQ(unquote("'ab'"), std::nullopt);
}

} // namespace
} // namespace gantry::filters::detail
