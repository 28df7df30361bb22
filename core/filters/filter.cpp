#include "core/filters/filter.hpp"

#include "core/log.hpp"

#include <algorithm>
#include <re2/re2.h>

namespace gantry::filters {

namespace {

// RE2 accepts `\C` (any single byte); Go's regexp, whose syntax containerd exposes, refuses it.
// Text between \Q and \E is literal in both.
bool has_any_byte_escape(std::string_view pattern) {
    bool literal = false;
    for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
        if (pattern[i] != '\\') continue;
        const char next = pattern[i + 1];
        if (literal) {
            if (next == 'E') literal = false;
            ++i;
            continue;
        }
        if (next == 'Q') literal = true;
        if (next == 'C') return true;
        ++i;
    }
    return false;
}

} // namespace

Selector::Selector(std::vector<std::string> path, Operator op, std::string value)
    : path_(std::move(path)), op_(op), value_(std::move(value)) {
    if (op_ != Operator::matches) return;
    if (has_any_byte_escape(value_)) {
        regexp_error_ = "invalid escape sequence: `\\C`";
    } else {
        RE2::Options options;
        options.set_log_errors(false);
        auto re = std::make_shared<const re2::RE2>(re2::StringPiece(value_.data(), value_.size()),
                                                   options);
        if (re->ok()) {
            regexp_ = std::move(re);
        } else {
            regexp_error_ = re->error();
        }
    }
    if (!regexp_error_.empty())
        log::warn("filters: error compiling regexp \"{}\": {}", value_, regexp_error_);
}

bool Selector::match(const Adaptor& adaptor) const {
    const std::optional<std::string_view> found = adaptor.field(path_);
    switch (op_) {
    case Operator::present:
        return found.has_value();
    case Operator::equal:
        return found.has_value() && *found == value_;
    case Operator::not_equal:
        return found.value_or(std::string_view()) != value_;
    case Operator::matches: {
        if (!regexp_) return false;
        const std::string_view text = found.value_or(std::string_view());
        return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *regexp_);
    }
    }
    return false;
}

bool Filter::match(const Adaptor& adaptor) const {
    if (alternatives_.empty()) return true;
    return std::any_of(alternatives_.begin(), alternatives_.end(), [&](const Conjunction& all) {
        return std::all_of(all.begin(), all.end(),
                           [&](const Selector& s) { return s.match(adaptor); });
    });
}

bool Filter::matches_everything() const noexcept {
    return alternatives_.empty() || std::any_of(alternatives_.begin(), alternatives_.end(),
                                                [](const Conjunction& all) { return all.empty(); });
}

} // namespace gantry::filters
