// How a path of bucket names plus a final name becomes one LMDB key. The full picture, with the
// bucket tree, is drawn in core/metadata/schema.hpp; this is the mechanism.
//
// A component is a name's bytes with every 00 written as 00 FF, followed by a terminator:
// 00 01 for a bucket, 00 02 for a value. A name longer than kMaxPlainComponent escaped bytes is
// written in hashed form instead: its first (at most kHashedPrefix) escaped bytes, 00 03, 32
// lowercase hex digits of a 128-bit hash of the whole name, then the terminator. Inside a
// component a 00 is followed by FF or 03, never 01/02, so the first 00 01 or 00 02 ends it: the
// encoding is self-delimiting, and a bucket's encoded path is a prefix of exactly the keys in its
// subtree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::metadata {

enum class ComponentKind : std::uint8_t { Bucket = 0x01, Value = 0x02 };

// Sized so that the deepest paths of the schema (namespace ≤ 76 bytes plus three unbounded names)
// stay under LMDB's 511-byte key limit: 23 fixed + 78 + 3 × 132 = 497.
inline constexpr std::size_t kMaxPlainComponent = 128;
inline constexpr std::size_t kHashedPrefix = 96;

// Whether `name` is too long to be stored verbatim; the full name is then kept with the entry.
bool is_hashed_name(std::string_view name) noexcept;

// Appends the encoding of one component to `out`.
void append_component(std::string& out, std::string_view name, ComponentKind kind);

struct DecodedComponent {
    ComponentKind kind;
    // The name; for a hashed component only its kept prefix (the full name is with the entry).
    std::string name;
    bool hashed;
    // Encoded bytes the component occupies.
    std::size_t size;
};

// Parses the component at the start of `encoded`; nullopt if the bytes are not a component.
std::optional<DecodedComponent> decode_component(std::string_view encoded);

// A bucket, named by its path from the top of the keyspace. Built only from names, one component
// at a time, so no name can reach outside the bucket it is looked up in.
class BucketPath {
public:
    // The top of the keyspace (it holds `v1`). It has no marker and always exists.
    BucketPath() = default;

    [[nodiscard]] BucketPath child(std::string_view name) const&;
    [[nodiscard]] BucketPath child(std::string_view name) &&;

    // Starts every key in this bucket's subtree and no other key; also the bucket's marker key.
    const std::string& prefix() const noexcept { return prefix_; }
    // The names from the top, in order.
    const std::vector<std::string>& names() const noexcept { return names_; }
    bool is_top() const noexcept { return names_.empty(); }
    bool has_hashed_name() const noexcept { return hashed_; }

    // The key of the value `name` held directly in this bucket.
    std::string value_key(std::string_view name) const;

    bool operator==(const BucketPath& other) const noexcept { return prefix_ == other.prefix_; }

private:
    std::string prefix_;
    std::vector<std::string> names_;
    bool hashed_ = false;
};

} // namespace gantry::metadata
