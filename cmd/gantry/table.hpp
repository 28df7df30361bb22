// Listings: a header row and data rows laid out exactly as ctr lays out the same listing.
#pragma once

#include "cmd/gantry/tabwriter.hpp"

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::cli {

class Table {
public:
    // `layout` is the one ctr uses for the same listing (see tabwriter.hpp).
    explicit Table(std::vector<std::string> header, TabLayout layout = kNarrowLayout);

    // Cells never contain tabs or newlines: they would break the layout, so they become spaces.
    void add_row(std::vector<std::string> row);
    bool empty() const noexcept { return rows_.empty(); }

    // Every cell, the last included, ends with a tab as in ctr, so the last column is padded too:
    // the output is byte-identical to ctr's.
    std::string render() const;
    void print(std::ostream& out) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
    TabLayout layout_;
};

} // namespace gantry::cli
