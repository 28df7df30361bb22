// A compact, unambiguous rendering of a parsed Filter so that parse tests can state the expected
// structure in one string: selectors as `{part}{part} op 'value'`, AND as ", ", OR as " | ", and
// an alternative that matches everything as "*".
#pragma once

#include "core/filters/filter.hpp"

#include <string>

namespace gantry::filters::testing {

inline std::string render(const Selector& s) {
    std::string out;
    for (const std::string& part : s.path())
        out += "{" + part + "}";
    switch (s.op()) {
    case Operator::present:
        return out + " ?";
    case Operator::equal:
        out += " == ";
        break;
    case Operator::not_equal:
        out += " != ";
        break;
    case Operator::matches:
        out += " ~= ";
        break;
    }
    return out + "'" + s.value() + "'";
}

inline std::string render(const Filter& f) {
    if (f.alternatives().empty()) return "<all>";
    std::string out;
    for (const Conjunction& all : f.alternatives()) {
        if (!out.empty()) out += " | ";
        if (all.empty()) out += "*";
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (i != 0) out += ", ";
            out += render(all[i]);
        }
    }
    return out;
}

} // namespace gantry::filters::testing
