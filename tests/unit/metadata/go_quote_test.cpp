#include "core/metadata/go_quote.hpp"

#include <gtest/gtest.h>
#include <string>

namespace gantry::metadata {
namespace {

using namespace std::string_literals;

// Expected values are what Go's strconv.Quote returns for the same bytes.
TEST(GoQuote, MatchesStrconvQuote) {
    struct Case {
        std::string in;
        std::string out;
    };
    const Case cases[] = {
        {"", R"("")"},
        {"plain", R"("plain")"},
        {"a\"b\\c", R"("a\"b\\c")"},
        {"\a\b\f\n\r\t\v", R"("\a\b\f\n\r\t\v")"},
        {"\0\x1f\x7f"s, R"("\x00\x1f\x7f")"},
        {"caf\xc3\xa9", "\"caf\xc3\xa9\""},           // é is printed
        {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""}, // U+1F600 is printed
        {"\xff", R"("\xff")"},                        // invalid UTF-8 byte
        {"\xc3", R"("\xc3")"},                        // truncated sequence
        {"\xc0\xaf", R"("\xc0\xaf")"},                // overlong form
        {"\xed\xa0\x80", R"("\xed\xa0\x80")"},        // surrogate
        {"\xc2\x85", R"("\u0085")"},                  // C1 control
        {"\xc2\xa0", R"("\u00a0")"},                  // no-break space
        {"\xe2\x80\x8b", R"("\u200b")"},              // zero-width space
        {"\xee\x80\x80", R"("\ue000")"},              // private use
        {"\xf3\xb0\x80\x80", R"("\U000f0000")"},      // plane 15 private use
    };
    for (const auto& c : cases)
        EXPECT_EQ(go_quote(c.in), c.out) << c.in;
}

} // namespace
} // namespace gantry::metadata
