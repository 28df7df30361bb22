#include "cmd/gantry/tabwriter.hpp"
#include "tests/unit/cli/ctr_fixtures.hpp"

#include <gtest/gtest.h>

namespace gantry::cli {
namespace {

TEST(AlignTabs, ReproducesCtrDetailedPluginListing) {
    EXPECT_EQ(align_tabs(fixtures::kCtrPluginsDetailedInput, kWideLayout),
              fixtures::kCtrPluginsDetailedOutput);
}

TEST(AlignTabs, ColumnIsWidestCellPlusPaddingButAtLeastMinWidth) {
    EXPECT_EQ(align_tabs("a\tb\t\nlonger\tc\t\n", kNarrowLayout), "a      b \nlonger c \n");
    EXPECT_EQ(align_tabs("a\tb\n", kWideLayout), "a    b\n");
    EXPECT_EQ(align_tabs("\tx\n", kWideLayout), "    x\n");
}

TEST(AlignTabs, TrailingTextIsNotPadded) {
    EXPECT_EQ(align_tabs("k\tshort\nk\ta much longer trailing text\n", kNarrowLayout),
              "k short\nk a much longer trailing text\n");
}

TEST(AlignTabs, LineWithoutTabsEndsTheColumnBlock) {
    EXPECT_EQ(align_tabs("a\tx\nno tabs at all\nlonger\ty\n", kNarrowLayout),
              "a x\nno tabs at all\nlonger y\n");
}

TEST(AlignTabs, InnerColumnsAlignOnlyWithinTheirBlock) {
    // Lines 1-2 share column 1; line 3 has no cell there, so line 4's column 1 stands alone.
    EXPECT_EQ(align_tabs("a\tbb\tz\nc\td\tz\ne\tonly\nf\tgggg\tz\n", kNarrowLayout),
              "a bb z\nc d  z\ne only\nf gggg z\n");
}

TEST(AlignTabs, WidthCountsCodePointsNotBytes) {
    EXPECT_EQ(align_tabs("\xC2\xB5s\tx\nab\ty\n", kNarrowLayout), "\xC2\xB5s x\nab y\n");
}

TEST(AlignTabs, KeepsAMissingFinalNewlineMissing) {
    EXPECT_EQ(align_tabs("a\tb", kWideLayout), "a    b");
    EXPECT_EQ(align_tabs("", kWideLayout), "");
    EXPECT_EQ(align_tabs("\n", kWideLayout), "\n");
}

} // namespace
} // namespace gantry::cli
