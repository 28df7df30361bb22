// containerd's filter language (protocol-facts.md §3), shared by every List, by event
// subscriptions and by introspection.
//
//   filters   one or more strings, OR-ed; none, or an empty string, matches everything
//   string    selector ("," selector)*            AND-ed
//   selector  path | path "==" value | path "!=" value | path "~=" regexp
//   path      field ("." field)*  where a field is [A-Za-z0-9_]+ or a "…" string
//
// Semantics and error messages follow containerd 1.6 exactly, quirks included (see parser.cpp).
#pragma once

#include "core/errors.hpp"
#include "core/filters/adaptor.hpp"

#include <memory>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace gantry::filters {

enum class Operator {
    present,   // path
    equal,     // path==value: present and equal
    not_equal, // path!=value: an absent field reads as ""
    matches,   // path~=regexp: unanchored RE2 search; an absent field reads as ""
};

class Selector {
public:
    // A `matches` selector compiles its regexp here, once. A regexp that does not compile is
    // not an error: containerd accepts it and the selector never matches.
    Selector(std::vector<std::string> path, Operator op, std::string value = {});

    const std::vector<std::string>& path() const noexcept { return path_; }
    Operator op() const noexcept { return op_; }
    const std::string& value() const noexcept { return value_; }
    // Why the regexp of a `matches` selector did not compile; empty otherwise.
    const std::string& regexp_error() const noexcept { return regexp_error_; }

    bool match(const Adaptor& adaptor) const;

private:
    std::vector<std::string> path_;
    Operator op_;
    std::string value_;
    std::shared_ptr<const re2::RE2> regexp_; // shared so that filters copy cheaply
    std::string regexp_error_;
};

// The selectors of one filter string; all must match. Empty matches everything.
using Conjunction = std::vector<Selector>;

// A parsed filter. Immutable once built and safe to match from several threads at once.
class Filter {
public:
    // Matches everything.
    Filter() = default;
    // Matches when any alternative matches; no alternatives at all matches everything.
    explicit Filter(std::vector<Conjunction> alternatives)
        : alternatives_(std::move(alternatives)) {}

    bool match(const Adaptor& adaptor) const;
    bool matches_everything() const noexcept;
    const std::vector<Conjunction>& alternatives() const noexcept { return alternatives_; }

private:
    std::vector<Conjunction> alternatives_;
};

// containerd's filters.ParseAll. A syntax error is InvalidArgument with containerd's text,
// `filters: parse error: [<before> >|<byte>|< <after>]: <reason>` (or `[<input>]: <reason>` at
// the end of the input); Error::wire_message() adds the ": invalid argument" containerd sends.
Result<Filter> parse(std::span<const std::string> filters);
Result<Filter> parse(std::span<const std::string_view> filters);

// For any range of string-likes, e.g. a protobuf `repeated string filters` field.
template <std::ranges::input_range R>
requires std::convertible_to<std::ranges::range_reference_t<R>, std::string_view> Result<Filter>
parse_range(const R& filters) {
    std::vector<std::string_view> views;
    if constexpr (std::ranges::sized_range<R>) views.reserve(std::ranges::size(filters));
    for (const auto& f : filters)
        views.emplace_back(f);
    return parse(std::span<const std::string_view>(views));
}

// containerd's filters.Parse: one string.
Result<Filter> parse_one(std::string_view filter);

} // namespace gantry::filters
