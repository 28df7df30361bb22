// plugins/diff's mount decisions: when the overlay fast path applies, and how mounts are made
// read-only for a diff (no kernel needed).
#include "plugins/diff/walking_differ.hpp"

#include <gtest/gtest.h>

namespace gantry::diff {
namespace {

mount::Mount overlay(std::vector<std::string> opts) {
    return {"overlay", "overlay", "", std::move(opts)};
}

TEST(OverlayUpperdir, OnlyWhenTheUpperStacksExactlyOnTheLower) {
    auto upper =
        overlay({"index=off", "workdir=/s/2/work", "upperdir=/s/2/fs", "lowerdir=/s/1/fs"});
    std::vector<mount::Mount> bind_lower{{"bind", "/s/1/fs", "", {"ro", "rbind"}}};
    EXPECT_EQ(overlay_upperdir(bind_lower, std::vector{upper}), "/s/2/fs");

    std::vector<mount::Mount> other_lower{{"bind", "/s/9/fs", "", {"ro", "rbind"}}};
    EXPECT_EQ(overlay_upperdir(other_lower, std::vector{upper}), "");

    auto upper2 = overlay({"workdir=/s/3/work", "upperdir=/s/3/fs", "lowerdir=/s/2/fs:/s/1/fs"});
    std::vector<mount::Mount> view{overlay({"lowerdir=/s/2/fs:/s/1/fs"})};
    EXPECT_EQ(overlay_upperdir(view, std::vector{upper2}), "/s/3/fs");
    std::vector<mount::Mount> reordered{overlay({"lowerdir=/s/1/fs:/s/2/fs"})};
    EXPECT_EQ(overlay_upperdir(reordered, std::vector{upper2}), "");

    // No upperdir, several mounts, or no lower: the trees are walked.
    EXPECT_EQ(overlay_upperdir(view, std::vector{overlay({"lowerdir=/a:/b"})}), "");
    EXPECT_EQ(overlay_upperdir({}, std::vector{upper}), "");
    EXPECT_EQ(overlay_upperdir(bind_lower, std::vector{upper, upper}), "");
}

TEST(ReadOnlyMounts, OverlayUpperBecomesALowerAndBindGetsRo) {
    auto ro = read_only_mounts(std::vector{overlay(
        {"index=off", "workdir=/s/2/work", "upperdir=/s/2/fs", "lowerdir=/s/1/fs:/s/0/fs"})});
    ASSERT_EQ(ro.size(), 1u);
    EXPECT_EQ(ro[0].options,
              (std::vector<std::string>{"index=off", "lowerdir=/s/2/fs:/s/1/fs:/s/0/fs"}))
        << "an overlay without upperdir is read-only by itself";

    auto b = read_only_mounts(std::vector<mount::Mount>{{"bind", "/x", "", {"rbind", "rw"}}});
    EXPECT_EQ(b[0].options, (std::vector<std::string>{"rbind", "ro"}));
    auto already = read_only_mounts(std::vector<mount::Mount>{{"bind", "/x", "", {"ro", "rbind"}}});
    EXPECT_EQ(already[0].options, (std::vector<std::string>{"ro", "rbind"}));
}

} // namespace
} // namespace gantry::diff
