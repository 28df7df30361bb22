#include "core/metadata/keys.hpp"

namespace gantry::metadata {

namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kHashMark = '\x03';
constexpr std::size_t kHashHexDigits = 32;

std::size_t escaped_size(std::string_view name) noexcept {
    std::size_t n = name.size();
    for (char c : name)
        if (c == kEscape) ++n;
    return n;
}

void append_escaped(std::string& out, std::string_view name) {
    for (char c : name) {
        out.push_back(c);
        if (c == kEscape) out.push_back(kEscapedZero);
    }
}

std::uint64_t mix64(std::uint64_t k) noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

// FNV-1a from a given basis, finished with a 64-bit mixer. Not a cryptographic hash: the full
// name is stored beside every hashed component and compared on access, so a collision (chance or
// crafted) costs an error in the caller's own namespace, never another object.
std::uint64_t hash64(std::string_view s, std::uint64_t basis) noexcept {
    std::uint64_t h = basis;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return mix64(h ^ s.size());
}

void append_hex(std::string& out, std::uint64_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4)
        out.push_back(kDigits[(v >> shift) & 0xf]);
}

bool is_hex_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

} // namespace

bool is_hashed_name(std::string_view name) noexcept {
    return escaped_size(name) > kMaxPlainComponent;
}

void append_component(std::string& out, std::string_view name, ComponentKind kind) {
    if (!is_hashed_name(name)) {
        out.reserve(out.size() + name.size() + 2);
        append_escaped(out, name);
    } else {
        // Keep a readable, roughly ordered prefix; never split an escape pair.
        std::size_t kept = 0;
        std::size_t escaped = 0;
        while (kept < name.size()) {
            std::size_t step = name[kept] == kEscape ? 2 : 1;
            if (escaped + step > kHashedPrefix) break;
            escaped += step;
            ++kept;
        }
        append_escaped(out, name.substr(0, kept));
        out.push_back(kEscape);
        out.push_back(kHashMark);
        append_hex(out, hash64(name, 0xcbf29ce484222325ULL));
        append_hex(out, hash64(name, 0x84222325cbf29ce4ULL));
    }
    out.push_back(kEscape);
    out.push_back(static_cast<char>(kind));
}

std::optional<DecodedComponent> decode_component(std::string_view encoded) {
    DecodedComponent d{ComponentKind::Value, {}, false, 0};
    std::size_t i = 0;
    while (i < encoded.size()) {
        char c = encoded[i];
        if (c != kEscape) {
            d.name.push_back(c);
            ++i;
            continue;
        }
        if (i + 1 >= encoded.size()) return std::nullopt;
        char next = encoded[i + 1];
        if (next == kEscapedZero && !d.hashed) {
            d.name.push_back(kEscape);
            i += 2;
        } else if (next == kHashMark && !d.hashed) {
            if (encoded.size() - (i + 2) < kHashHexDigits) return std::nullopt;
            for (std::size_t j = 0; j < kHashHexDigits; ++j)
                if (!is_hex_digit(encoded[i + 2 + j])) return std::nullopt;
            d.hashed = true;
            i += 2 + kHashHexDigits;
            // Only the terminator may follow the hash.
            if (i + 1 >= encoded.size() || encoded[i] != kEscape) return std::nullopt;
        } else if (next == static_cast<char>(ComponentKind::Bucket) ||
                   next == static_cast<char>(ComponentKind::Value)) {
            d.kind = static_cast<ComponentKind>(next);
            d.size = i + 2;
            return d;
        } else {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

BucketPath BucketPath::child(std::string_view name) const& {
    BucketPath copy = *this;
    return std::move(copy).child(name);
}

BucketPath BucketPath::child(std::string_view name) && {
    append_component(prefix_, name, ComponentKind::Bucket);
    names_.emplace_back(name);
    hashed_ = hashed_ || is_hashed_name(name);
    return std::move(*this);
}

std::string BucketPath::value_key(std::string_view name) const {
    std::string key = prefix_;
    append_component(key, name, ComponentKind::Value);
    return key;
}

} // namespace gantry::metadata
