#include "cmd/gantry/labels.hpp"

#include <gtest/gtest.h>

namespace gantry::cli {
namespace {

TEST(ParseLabelArgs, SplitsAtTheFirstEqualsAndDefaultsToTrue) {
    const std::vector<std::string> args{"a=1", "flag", "cleared=", "url=x=y", "a=2"};
    const std::map<std::string, std::string> want{
        {"a", "2"}, {"flag", "true"}, {"cleared", ""}, {"url", "x=y"}};
    EXPECT_EQ(parse_label_args(args), want);
    EXPECT_TRUE(parse_label_args({}).empty());
}

TEST(FormatLabels, SortsPairsAndUsesThePlaceholderWhenEmpty) {
    // ctr sorts the joined "k=v" strings, not the keys: "a.b=x" sorts before "a=1" ('.' < '=').
    const std::map<std::string, std::string> labels{{"b", "2"}, {"a", "1"}, {"a.b", "x"}};
    EXPECT_EQ(format_labels(labels), "a.b=x,a=1,b=2");
    EXPECT_EQ(format_labels(std::map<std::string, std::string>{}), "");
    EXPECT_EQ(format_labels(std::map<std::string, std::string>{}, "-"), "-");
}

} // namespace
} // namespace gantry::cli
