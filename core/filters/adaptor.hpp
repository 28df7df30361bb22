// How a filter sees an object: by asking for the string at a field path. Each List implementation
// supplies an Adaptor for its objects; FieldsAdaptor covers the usual shape (a few named fields
// plus label-like maps) without a class per object type.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gantry::filters {

class Adaptor {
public:
    virtual ~Adaptor() = default;

    // The value at `path` (never empty when called by a Filter), or nullopt when the object has no
    // such field. The view must stay valid until the next call to field() on this adaptor, so an
    // adaptor may point into the object or into a buffer of its own.
    virtual std::optional<std::string_view> field(std::span<const std::string> path) const = 0;

protected:
    Adaptor() = default;
    Adaptor(const Adaptor&) = default;
    Adaptor& operator=(const Adaptor&) = default;
};

// An Adaptor around a callable `std::optional<std::string_view>(std::span<const std::string>)`.
template <typename F>
class FunctionAdaptor final : public Adaptor {
public:
    explicit FunctionAdaptor(F fn) : fn_(std::move(fn)) {}
    std::optional<std::string_view> field(std::span<const std::string> path) const override {
        return fn_(path);
    }

private:
    F fn_;
};

template <typename F>
FunctionAdaptor<std::decay_t<F>> adapt(F&& fn) {
    return FunctionAdaptor<std::decay_t<F>>(std::forward<F>(fn));
}

namespace detail {
// `parts` joined with '.', in a per-thread buffer that is reused so lookups do not allocate once
// it has grown; valid until the next call on the same thread.
const std::string& join_key(std::span<const std::string> parts);
} // namespace detail

// containerd's rule for `labels.<k>` and `annotations.<k>`: the parts after the map's name are
// joined with '.' to form the key (`labels.a.b` looks up "a.b"), and an empty map is absent.
// `Map` is any string-to-string map with find() taking a std::string (std::map, unordered_map,
// google::protobuf::Map).
template <typename Map>
std::optional<std::string_view> map_field(const Map& map, std::span<const std::string> key_parts) {
    if (map.empty()) return std::nullopt;
    const auto lookup = [&](const std::string& key) -> std::optional<std::string_view> {
        const auto it = map.find(key);
        if (it == map.end()) return std::nullopt;
        return std::string_view(it->second);
    };
    if (key_parts.size() == 1) return lookup(key_parts.front());
    return lookup(detail::join_key(key_parts));
}

// Whether a plain field with an empty value counts as present. Most containerd objects report a
// field present only when it is non-empty; a few (a snapshot's name and parent, a content digest,
// an ingest ref, TaskIO.terminal) are always present.
enum class Presence { non_empty, always };

// An Adaptor assembled from views: plain fields, label-like maps and nested adaptors, each under a
// dotted path. It copies no strings, so everything it is given must outlive it; it is meant to be
// built on the stack per object inside a List loop. Entries are tried in the order they were
// added and the first whose path is a prefix of the requested path answers.
//
// As in containerd, a plain field ignores trailing path parts (`name.x` reads `name`), a map joins
// them into its key, and a nested adaptor receives them.
class FieldsAdaptor final : public Adaptor {
public:
    FieldsAdaptor() = default;
    FieldsAdaptor(const FieldsAdaptor&) = default;
    FieldsAdaptor& operator=(const FieldsAdaptor&) = default;

    FieldsAdaptor& add(std::string_view path, std::string_view value,
                       Presence presence = Presence::non_empty);
    // A temporary string would be gone before the match: keep the value in a variable first.
    template <typename S>
    requires std::same_as<S, std::string> FieldsAdaptor&
    add(std::string_view path, S&& value, Presence presence = Presence::non_empty) = delete;

    template <typename Map>
    FieldsAdaptor& add_map(std::string_view path, const Map& map) {
        return push({Kind::map,
                     path,
                     {},
                     Presence::non_empty,
                     &map,
                     [](const void* m, std::span<const std::string> key) {
                         return map_field(*static_cast<const Map*>(m), key);
                     }});
    }

    template <typename Map>
    FieldsAdaptor& add_map(std::string_view path, const Map&& map) = delete;

    // Delegates `path.<rest>` to `inner` with <rest> (possibly empty) as its path.
    FieldsAdaptor& add_nested(std::string_view path, const Adaptor& inner);
    FieldsAdaptor& add_nested(std::string_view path, const Adaptor&& inner) = delete;

    std::optional<std::string_view> field(std::span<const std::string> path) const override;

private:
    enum class Kind { plain, map, nested };
    using MapLookup = std::optional<std::string_view> (*)(const void*,
                                                          std::span<const std::string>);
    struct Entry {
        Kind kind;
        std::string_view path;
        std::string_view value;
        Presence presence;
        const void* target; // the map or the nested Adaptor
        MapLookup lookup;
    };
    FieldsAdaptor& push(const Entry& entry);

    // Typical objects have up to five entries; more spill to the heap.
    static constexpr std::size_t kInline = 8;
    std::array<Entry, kInline> inline_{};
    std::size_t inline_count_ = 0;
    std::vector<Entry> spill_;
};

} // namespace gantry::filters
