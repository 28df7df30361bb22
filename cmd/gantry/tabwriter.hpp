// Column alignment the way ctr lays out its tables: ctr prints through Go's text/tabwriter, and
// gantry reproduces that algorithm so the two CLIs print byte-identical listings, which lets
// scripts and tests treat them interchangeably.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gantry::cli {

// The tabwriter parameters ctr passes (minwidth, tabwidth, padding; padchar is always ' ').
struct TabLayout {
    std::size_t min_width;
    std::size_t padding;
};

// ctr's plugins, containers and tasks listings: tabwriter.NewWriter(w, 4, 8, 4, ' ', 0).
inline constexpr TabLayout kWideLayout{4, 4};
// ctr's namespaces, images, snapshots and leases listings: tabwriter.NewWriter(w, 1, 8, 1, ' ', 0).
inline constexpr TabLayout kNarrowLayout{1, 1};

// Aligns tab-terminated cells into columns. A line is a sequence of cells, each ended by '\t',
// plus trailing text that takes no part in alignment. A column spans a run of consecutive lines
// that all have a cell in it; its width is its widest cell plus the padding, at least min_width.
// Widths count UTF-8 code points.
std::string align_tabs(std::string_view text, TabLayout layout);

} // namespace gantry::cli
