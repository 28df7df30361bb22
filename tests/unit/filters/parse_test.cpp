// The accepted language and the exact error texts of containerd 1.6's filter parser. Every List in
// the project parses through this code, so this table is its conformance reference.
#include "core/filters/filter.hpp"
#include "tests/unit/filters/render.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace gantry::filters {
namespace {

using namespace std::string_literals;
using testing::render;

struct ValidCase {
    std::string input;
    std::string parsed; // see render.hpp
};

std::ostream& operator<<(std::ostream& os, const ValidCase& c) {
    return os << c.input;
}

class ParseValid : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ParseValid, Parses) {
    const ValidCase& c = GetParam();
    const auto filter = parse_one(c.input);
    ASSERT_TRUE(filter.ok()) << filter.error().message();
    EXPECT_EQ(render(*filter), c.parsed);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseValid,
    ::testing::Values(
        ValidCase{"name", "{name} ?"}, ValidCase{"name==foo", "{name} == 'foo'"},
        ValidCase{"name!=foo", "{name} != 'foo'"}, ValidCase{"name~=foo.*", "{name} ~= 'foo.*'"},
        ValidCase{"A_1.b2.C_3", "{A_1}{b2}{C_3} ?"}, ValidCase{"labels.foo", "{labels}{foo} ?"},
        ValidCase{"labels.a.b==c", "{labels}{a}{b} == 'c'"},
        ValidCase{R"(labels."containerd.io/gc.root")", "{labels}{containerd.io/gc.root} ?"},
        ValidCase{R"(labels."containerd.io/gc.root"==true)",
                  "{labels}{containerd.io/gc.root} == 'true'"},
        ValidCase{R"("leading quote".after==v)", "{leading quote}{after} == 'v'"},
        ValidCase{"name==foo,labels.bar", "{name} == 'foo', {labels}{bar} ?"},
        ValidCase{"labels.bar,name==foo", "{labels}{bar} ?, {name} == 'foo'"},
        // Whitespace is skipped where a token starts: before a field, an operator or a value.
        ValidCase{"  name  ==  foo", "{name} == 'foo'"},
        ValidCase{"name==foo,   labels.x", "{name} == 'foo', {labels}{x} ?"},
        ValidCase{"\t\nname~=\tfoo", "{name} ~= 'foo'"},
        ValidCase{"\u3000name==x", "{name} == 'x'"},
        // Values run up to a comma or whitespace and may hold any other printable character.
        ValidCase{"labels.foo==omg_asdf.asdf-qwer", "{labels}{foo} == 'omg_asdf.asdf-qwer'"},
        ValidCase{"name==a=b!c~d", "{name} == 'a=b!c~d'"},
        ValidCase{"name==a/b", "{name} == 'a/b'"}, ValidCase{"name==a\"b", "{name} == 'a\"b'"},
        ValidCase{"name==_x", "{name} == '_x'"}, ValidCase{"name==牛", "{name} == '牛'"},
        ValidCase{"name~=[abc]\\+", "{name} ~= '[abc]\\+'"},
        // `|` is a quote character, never an OR between selectors.
        ValidCase{"name==a|b", "{name} == 'a|b'"},
        ValidCase{"name==foo|name==bar", "{name} == 'foo|name==bar'"},
        // The first character after an operator always starts a value, printable or not.
        ValidCase{"name==\x01x", "{name} == '\x01x'"},
        // Quoted values.
        ValidCase{R"(topic=="/tasks/exit")", "{topic} == '/tasks/exit'"},
        ValidCase{R"(name=="a b, c")", "{name} == 'a b, c'"},
        ValidCase{R"(name=="")", "{name} == ''"}, ValidCase{R"(name~="")", "{name} ~= ''"},
        ValidCase{R"(name!="")", "{name} != ''"},
        // `/…/` and `|…|` are accepted as the value of `~=`.
        ValidCase{"name~=/[abc]{1,2}/", "{name} ~= '[abc]{1,2}'"},
        ValidCase{R"(name~=/foo\/bar/)", "{name} ~= 'foo/bar'"},
        ValidCase{"name~=|foo/bar|", "{name} ~= 'foo/bar'"},
        ValidCase{R"(name~=|a\|b|)", "{name} ~= 'a|b'"},
        ValidCase{R"(name~=/^docker\\.io\//)", R"({name} ~= '^docker\.io/')"},
        ValidCase{R"(other~=/[abc]{0,1}"\//,name!=foo)",
                  R"({other} ~= '[abc]{0,1}"/', {name} != 'foo')"},
        // Go escapes in quoted strings.
        ValidCase{R"(labels."with \\ and \"")", R"({labels}{with \ and "} ?)"},
        ValidCase{R"(name=="\a\b\f\n\r\t\v")", "{name} == '\a\b\f\n\r\t\v'"},
        ValidCase{R"(name=="\x41\101\u00e9\U0001F600")", "{name} == 'AAé😀'"},
        ValidCase{R"(name=="\ud800")", "{name} == '\xEF\xBF\xBD'"}, // a surrogate becomes U+FFFD
        ValidCase{R"(name=="\xff\377")", "{name} == '\xff\xff'"},   // bytes, not code points
        ValidCase{R"(name=="\x00")", "{name} == '"s + '\0' + "'"}));

struct ErrorCase {
    std::string input;
    std::string message; // Error::message(); InvalidArgument always
};

std::ostream& operator<<(std::ostream& os, const ErrorCase& c) {
    return os << c.input;
}

class ParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseError, FailsWithContainerdsMessage) {
    const ErrorCase& c = GetParam();
    const auto filter = parse_one(c.input);
    ASSERT_FALSE(filter.ok()) << render(*filter);
    EXPECT_EQ(filter.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(filter.error().message(), "filters: parse error: " + c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseError,
    ::testing::Values(
        // Structure.
        ErrorCase{"name==foo,", "[name==foo,]: expected field or quoted"},
        ErrorCase{"labels.", "[labels.]: expected field or quoted"},
        ErrorCase{",name", "[ >|,|< name]: expected field or quoted"},
        ErrorCase{".name", "[ >|.|< name]: expected field or quoted"},
        ErrorCase{"a..b", "[a. >|.|< b]: expected field or quoted"},
        ErrorCase{"name==x,,y", "[name==x, >|,|< y]: expected field or quoted"},
        ErrorCase{"?name", "[ >|?|< name]: expected field or quoted"},
        ErrorCase{R"(labels.?"x")", R"([labels. >|?|< "x"]: expected field or quoted)"},
        ErrorCase{"name==", "[name==]: expected value or quoted"},
        ErrorCase{"name== ", "[name== ]: expected value or quoted"},
        ErrorCase{"image~=,id?=?fbaq", "[image~= >|,|< id?=?fbaq]: expected value or quoted"},
        ErrorCase{"name==.b", "[name== >|.|< b]: expected value or quoted"},
        // So a regexp that starts with `.` must be quoted.
        ErrorCase{"name~=.*x", "[name~= >|.|< *x]: expected value or quoted"},
        // Operators.
        ErrorCase{"name=foo", R"([name >|=|< foo]: unsupported operator "=")"},
        ErrorCase{"name===foo", R"([name >|=|< ==foo]: unsupported operator "===")"},
        ErrorCase{"name!foo", R"([name >|!|< foo]: unsupported operator "!")"},
        ErrorCase{"name=~foo", R"([name >|=|< ~foo]: unsupported operator "=~")"},
        ErrorCase{"name foo", R"([name  >|f|< oo]: expected an operator ("=="|"!="|"~="))"},
        ErrorCase{"name ,x", R"([name  >|,|< x]: expected an operator ("=="|"!="|"~="))"},
        ErrorCase{"a . b", R"([a  >|.|<  b]: expected an operator ("=="|"!="|"~="))"},
        ErrorCase{R"(name"x")", R"([name >|"|< x"]: expected an operator ("=="|"!="|"~="))"},
        // Anything left after a selector that is not a comma.
        ErrorCase{"name==foo bar", "[name==foo >| |< bar]: unexpected input:  "},
        ErrorCase{"name==foo ", "[name==foo >| |< ]: unexpected input:  "},
        ErrorCase{"name==x\ty", "[name==x >|\t|< y]: unexpected input: \t"},
        ErrorCase{R"(name=="foo"bar)", R"([name=="foo" >|b|< ar]: unexpected input: b)"},
        ErrorCase{R"(name=="x".y)", R"([name=="x" >|.|< y]: unexpected input: .)"},
        ErrorCase{"name==x\x01", "[name==x >|\x01|< ]: unexpected input: \x01"},
        // A value ends at non-ASCII space and at non-graphic code points; the location shows
        // one byte of a multi-byte character, as containerd's does.
        ErrorCase{"name==a\u3000", "[name==a >|\xE3|< \x80\x80]: unexpected input: \u3000"},
        ErrorCase{"name==a\u00a0b", "[name==a >|\xC2|< \xA0"
                                    "b]: unexpected input: \u00a0"},
        ErrorCase{"name==a\u00adb", "[name==a >|\xC2|< \xAD"
                                    "b]: unexpected input: \u00ad"},
        ErrorCase{"name==a\u200bb", "[name==a >|\xE2|< \x80\x8B"
                                    "b]: unexpected input: \u200b"},
        // `/…/` and `|…|` outside a `~=` value.
        ErrorCase{"name==|foo|", "[name== >|||< foo|]: invalid quote encountered"},
        ErrorCase{"name==/foo/", "[name== >|/|< foo/]: invalid quote encountered"},
        ErrorCase{"name!=/foo/", "[name!= >|/|< foo/]: invalid quote encountered"},
        ErrorCase{"topic==/tasks/exit", "[topic== >|/|< tasks/exit]: invalid quote encountered"},
        ErrorCase{"labels.|foo|==omg_asdf.asdf-qwer",
                  "[labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote encountered"},
        ErrorCase{"labels./foo/", "[labels. >|/|< foo/]: invalid quote encountered"},
        // Unterminated literals.
        ErrorCase{"labels.ns/key==value",
                  "[labels.ns >|/|< key==value]: quoted literal not terminated"},
        ErrorCase{"labels.key==/value",
                  "[labels.key== >|/|< value]: quoted literal not terminated"},
        ErrorCase{"labels.containerd.io/gc.root==x",
                  "[labels.containerd.io >|/|< gc.root==x]: quoted literal not terminated"},
        ErrorCase{"name|x", "[name >|||< x]: quoted literal not terminated"},
        ErrorCase{"name~=/x", "[name~= >|/|< x]: quoted literal not terminated"},
        ErrorCase{R"(name=="foo)", R"([name== >|"|< foo]: quoted literal not terminated)"},
        ErrorCase{R"("unterminated)", R"([ >|"|< unterminated]: quoted literal not terminated)"},
        ErrorCase{"name==\"fo\no\"", "[name== >|\"|< fo\no\"]: quoted literal not terminated"},
        // Escapes.
        ErrorCase{R"(labels."\g")", R"([labels. >|"|< \g"]: illegal escape sequence)"},
        ErrorCase{R"(name=="\'")", R"([name== >|"|< \'"]: illegal escape sequence)"},
        ErrorCase{R"(name=="\/")", R"([name== >|"|< \/"]: illegal escape sequence)"},
        ErrorCase{R"(name~=/\"/)", R"([name~= >|/|< \"/]: illegal escape sequence)"},
        // A regexp escape inside /…/ is a Go string escape first: `\.` must be written `\\.`.
        ErrorCase{R"(name~=/a\.b/)", R"([name~= >|/|< a\.b/]: illegal escape sequence)"},
        // The first error the scanner meets is the one reported.
        ErrorCase{R"(name=="\q)", R"([name== >|"|< \q]: illegal escape sequence)"},
        ErrorCase{R"(labels."\xaz")", R"([labels. >|"|< \xaz"]: illegal numeric escape sequence)"},
        ErrorCase{R"(name=="\x4g")", R"([name== >|"|< \x4g"]: illegal numeric escape sequence)"},
        ErrorCase{R"(name=="\12")", R"([name== >|"|< \12"]: illegal numeric escape sequence)"},
        ErrorCase{R"(name=="\u12")", R"([name== >|"|< \u12"]: illegal numeric escape sequence)"},
        ErrorCase{R"(name=="\400")",
                  R"([name== >|"|< \400"]: unquoting failed: quote syntax error)"},
        ErrorCase{R"(name=="\U00110000")",
                  R"([name== >|"|< \U00110000"]: unquoting failed: quote syntax error)"},
        // NUL bytes and malformed UTF-8.
        ErrorCase{"name\0==x"s, "[name >|\0|< ==x]: unexpected null"s},
        ErrorCase{"name==x\0"s, "[name==x >|\0|< ]: unexpected input: \uFFFD"s},
        ErrorCase{"name==\"a\0b\""s, "[name== >|\"|< a\0b\"]: unexpected null"s},
        ErrorCase{"name==\xff", "[name== >|\xff|< ]: rune error"},
        ErrorCase{"\xffname", "[ >|\xff|< name]: rune error"},
        ErrorCase{"name==a\xff", "[name==a >|\xff|< ]: unexpected input: \uFFFD"},
        ErrorCase{"labels.\"\xff\"", "[labels. >|\"|< \xff\"]: rune error"},
        ErrorCase{"name==\xC0\x80", "[name== >|\xC0|< \x80]: rune error"},         // overlong
        ErrorCase{"name==\xED\xA0\x80", "[name== >|\xED|< \xA0\x80]: rune error"}, // surrogate
        ErrorCase{"name==\xF4\x90\x80\x80", "[name== >|\xF4|< \x90\x80\x80]: rune error"},
        ErrorCase{"name==\xE2\x82", "[name== >|\xE2|< \x82]: rune error"}, // truncated
        // U+FFFD itself is refused, even correctly encoded.
        ErrorCase{"name==\uFFFD", "[name== >|\xEF|< \xBF\xBD]: rune error"}));

TEST(Parse, NoStringsMatchesEverything) {
    const auto filter = parse(std::span<const std::string>());
    ASSERT_TRUE(filter.ok());
    EXPECT_TRUE(filter->matches_everything());
    EXPECT_EQ(render(*filter), "<all>");
}

TEST(Parse, EmptyStringIsAnAlternativeThatMatchesEverything) {
    const std::vector<std::string> filters{"name==a", ""};
    const auto filter = parse(filters);
    ASSERT_TRUE(filter.ok());
    EXPECT_TRUE(filter->matches_everything());
    EXPECT_EQ(render(*filter), "{name} == 'a' | *");
}

TEST(Parse, StringsAreAlternatives) {
    const std::vector<std::string> filters{"name==a,labels.x", "name~=b"};
    const auto filter = parse(filters);
    ASSERT_TRUE(filter.ok());
    EXPECT_FALSE(filter->matches_everything());
    EXPECT_EQ(render(*filter), "{name} == 'a', {labels}{x} ? | {name} ~= 'b'");
}

TEST(Parse, AnyBadStringFailsTheWholeList) {
    // Even after an empty string, which on its own would match everything.
    const std::vector<std::string> filters{"", "name==a", "bad=="};
    const auto filter = parse(filters);
    ASSERT_FALSE(filter.ok());
    EXPECT_EQ(filter.error().message(), "filters: parse error: [bad==]: expected value or quoted");
}

TEST(Parse, FirstBadStringIsReported) {
    const std::vector<std::string_view> filters{"a=b", "c=="};
    const auto filter = parse(filters);
    ASSERT_FALSE(filter.ok());
    EXPECT_EQ(filter.error().message(),
              R"(filters: parse error: [a >|=|< b]: unsupported operator "=")");
}

TEST(Parse, WireMessageCarriesTheClassSuffix) {
    const std::vector<std::string> filters{"name="};
    const auto filter = parse(filters);
    ASSERT_FALSE(filter.ok());
    EXPECT_EQ(filter.error().wire_message(),
              R"(filters: parse error: [name >|=|< ]: unsupported operator "=": invalid argument)");
}

TEST(Parse, RangeOfStringLikes) {
    const char* raw[] = {"name==a", "name==b"};
    const auto filter = parse_range(raw);
    ASSERT_TRUE(filter.ok());
    EXPECT_EQ(render(*filter), "{name} == 'a' | {name} == 'b'");
}

TEST(Parse, EmptyStringAloneMatchesEverything) {
    const auto filter = parse_one("");
    ASSERT_TRUE(filter.ok());
    EXPECT_TRUE(filter->matches_everything());
}

// An invalid regexp is accepted at parse time, as in containerd; it then never matches.
TEST(Parse, InvalidRegexpIsNotAParseError) {
    for (const char* input : {"name~=[unclosed", "name~=(", "name~=a**", R"(name~=\C)",
                              R"(name~="\xff")", "name~=x{1001}"}) {
        const auto filter = parse_one(input);
        ASSERT_TRUE(filter.ok()) << input;
        ASSERT_EQ(filter->alternatives().size(), 1u);
        EXPECT_FALSE(filter->alternatives()[0][0].regexp_error().empty()) << input;
    }
}

TEST(Parse, ValidRegexpHasNoError) {
    for (const char* input : {"name~=a.", R"(name~=\d+\.\d+$)", "name~=(?i)abc", R"(name~=\pL)",
                              R"(name~=\Q\C\E)", "name~=x{1000}", R"(name~=[[:alpha:]])"}) {
        const auto filter = parse_one(input);
        ASSERT_TRUE(filter.ok()) << input;
        EXPECT_EQ(filter->alternatives()[0][0].regexp_error(), "") << input;
    }
}

} // namespace
} // namespace gantry::filters
