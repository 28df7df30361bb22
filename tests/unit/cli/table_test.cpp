#include "cmd/gantry/table.hpp"
#include "tests/unit/cli/ctr_fixtures.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace gantry::cli {
namespace {

std::vector<std::vector<std::string>> split_rows(std::string_view text) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> row;
        for (std::string w; words >> w;)
            row.push_back(w);
        rows.push_back(std::move(row));
    }
    return rows;
}

TEST(Table, ReproducesCtrPluginsListing) {
    auto rows = split_rows(fixtures::kCtrPluginsLs);
    ASSERT_GT(rows.size(), 1u);
    Table table(rows.front(), kWideLayout);
    for (std::size_t i = 1; i < rows.size(); ++i)
        table.add_row(rows[i]);
    EXPECT_EQ(table.render(), fixtures::kCtrPluginsLs);
}

TEST(Table, ReproducesCtrNamespacesListing) {
    Table table({"NAME", "LABELS"}, kNarrowLayout);
    table.add_row({"bar", "z=9"});
    table.add_row({"foo", "a=1,b=true"});
    EXPECT_EQ(table.render(), "NAME LABELS     \nbar  z=9        \nfoo  a=1,b=true \n");
}

TEST(Table, EmptyTablePrintsTheHeaderOnly) {
    Table table({"NAME", "LABELS"}, kNarrowLayout);
    EXPECT_TRUE(table.empty());
    EXPECT_EQ(table.render(), "NAME LABELS \n");
}

TEST(Table, TabsAndNewlinesInCellsCannotBreakTheLayout) {
    Table table({"A", "B"}, kNarrowLayout);
    table.add_row({"x\ty", "1\n2"});
    EXPECT_FALSE(table.empty());
    EXPECT_EQ(table.render(), "A   B   \nx y 1 2 \n");
}

} // namespace
} // namespace gantry::cli
