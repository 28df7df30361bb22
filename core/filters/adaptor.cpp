#include "core/filters/adaptor.hpp"

namespace gantry::filters {

namespace detail {

const std::string& join_key(std::span<const std::string> parts) {
    thread_local std::string key;
    key.clear();
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i != 0) key.push_back('.');
        key.append(parts[i]);
    }
    return key;
}

} // namespace detail

namespace {

// How many leading parts of `path` the dotted `prefix` spells out, or nullopt if it does not.
std::optional<std::size_t> match_prefix(std::string_view prefix,
                                        std::span<const std::string> path) {
    std::size_t used = 0;
    for (;;) {
        const std::size_t dot = prefix.find('.');
        const std::string_view part = prefix.substr(0, dot);
        if (used == path.size() || path[used] != part) return std::nullopt;
        ++used;
        if (dot == std::string_view::npos) return used;
        prefix.remove_prefix(dot + 1);
    }
}

} // namespace

FieldsAdaptor& FieldsAdaptor::add(std::string_view path, std::string_view value,
                                  Presence presence) {
    return push({Kind::plain, path, value, presence, nullptr, nullptr});
}

FieldsAdaptor& FieldsAdaptor::add_nested(std::string_view path, const Adaptor& inner) {
    return push({Kind::nested, path, {}, Presence::non_empty, &inner, nullptr});
}

FieldsAdaptor& FieldsAdaptor::push(const Entry& entry) {
    if (inline_count_ < kInline) {
        inline_[inline_count_++] = entry;
    } else {
        spill_.push_back(entry);
    }
    return *this;
}

std::optional<std::string_view> FieldsAdaptor::field(std::span<const std::string> path) const {
    const auto answer = [&](const Entry& e) -> std::optional<std::optional<std::string_view>> {
        const auto used = match_prefix(e.path, path);
        if (!used) return std::nullopt;
        const auto rest = path.subspan(*used);
        switch (e.kind) {
        case Kind::plain:
            if (e.value.empty() && e.presence == Presence::non_empty)
                return std::optional<std::string_view>();
            return std::optional<std::string_view>(e.value);
        case Kind::map:
            return e.lookup(e.target, rest);
        case Kind::nested:
            return static_cast<const Adaptor*>(e.target)->field(rest);
        }
        return std::optional<std::string_view>();
    };
    for (std::size_t i = 0; i < inline_count_; ++i)
        if (auto a = answer(inline_[i])) return *a;
    for (const Entry& e : spill_)
        if (auto a = answer(e)) return *a;
    return std::nullopt;
}

} // namespace gantry::filters
