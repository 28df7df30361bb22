#include "cmd/gantry/tabwriter.hpp"

#include <algorithm>
#include <vector>

namespace gantry::cli {
namespace {

std::size_t display_width(std::string_view s) {
    // Count code points: every byte that is not a UTF-8 continuation byte starts one.
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A line's cells; the last one is the trailing text, which is never padded.
using Line = std::vector<std::string_view>;

class Aligner {
public:
    Aligner(const std::vector<Line>& lines, TabLayout layout, bool final_newline)
        : lines_(lines), layout_(layout), final_newline_(final_newline) {}

    std::string run() {
        format(0, lines_.size());
        return std::move(out_);
    }

private:
    // Column blocks nest: a block in column c is a run of lines that all have a cell in c, and
    // within it the blocks of column c+1 are found the same way. widths_ holds the widths of the
    // enclosing blocks, one per column to the left.
    void format(std::size_t first, std::size_t last) {
        const std::size_t column = widths_.size();
        for (std::size_t i = first; i < last; ++i) {
            if (!has_cell(i, column)) continue;
            write_lines(first, i);
            first = i;
            std::size_t width = layout_.min_width;
            for (; i < last && has_cell(i, column); ++i)
                width = std::max(width, display_width(lines_[i][column]) + layout_.padding);
            widths_.push_back(width);
            format(first, i);
            widths_.pop_back();
            first = i;
        }
        write_lines(first, last);
    }

    bool has_cell(std::size_t line, std::size_t column) const {
        return column + 1 < lines_[line].size();
    }

    void write_lines(std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) {
            const Line& line = lines_[i];
            for (std::size_t j = 0; j < line.size(); ++j) {
                out_.append(line[j]);
                if (j < widths_.size()) out_.append(widths_[j] - display_width(line[j]), ' ');
            }
            if (i + 1 < lines_.size() || final_newline_) out_.push_back('\n');
        }
    }

    const std::vector<Line>& lines_;
    TabLayout layout_;
    bool final_newline_;
    std::vector<std::size_t> widths_;
    std::string out_;
};

} // namespace

std::string align_tabs(std::string_view text, TabLayout layout) {
    const bool final_newline = !text.empty() && text.back() == '\n';
    if (final_newline) text.remove_suffix(1);
    std::vector<Line> lines;
    if (!text.empty() || final_newline) {
        std::size_t start = 0;
        while (true) {
            const std::size_t end = std::min(text.find('\n', start), text.size());
            Line line;
            std::string_view rest = text.substr(start, end - start);
            for (std::size_t tab; (tab = rest.find('\t')) != std::string_view::npos;) {
                line.push_back(rest.substr(0, tab));
                rest.remove_prefix(tab + 1);
            }
            line.push_back(rest);
            lines.push_back(std::move(line));
            if (end == text.size()) break;
            start = end + 1;
        }
    }
    return Aligner(lines, layout, final_newline).run();
}

} // namespace gantry::cli
