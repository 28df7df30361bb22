#include "cmd/gantry/table.hpp"

#include <algorithm>
#include <ostream>

namespace gantry::cli {
namespace {

void append_row(std::string& text, const std::vector<std::string>& cells) {
    for (const auto& cell : cells) {
        text.append(cell);
        text.push_back('\t');
    }
    text.push_back('\n');
}

} // namespace

Table::Table(std::vector<std::string> header, TabLayout layout)
    : header_(std::move(header)), layout_(layout) {}

void Table::add_row(std::vector<std::string> row) {
    for (auto& cell : row)
        std::replace_if(
            cell.begin(), cell.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
    rows_.push_back(std::move(row));
}

std::string Table::render() const {
    std::string text;
    append_row(text, header_);
    for (const auto& row : rows_)
        append_row(text, row);
    return align_tabs(text, layout_);
}

void Table::print(std::ostream& out) const {
    out << render();
}

} // namespace gantry::cli
