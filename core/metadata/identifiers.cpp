#include "core/metadata/identifiers.hpp"

#include "core/metadata/go_quote.hpp"

#include <array>

namespace gantry::metadata {

namespace {

bool is_alnum(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_separator(char c) noexcept {
    return c == '.' || c == '_' || c == '-';
}

// kIdentifierPattern without a regex engine: runs of alphanumerics joined by one separator.
bool matches_identifier(std::string_view s) noexcept {
    bool need_alnum = true;
    for (char c : s) {
        if (is_alnum(c)) {
            need_alnum = false;
        } else if (is_separator(c) && !need_alnum) {
            need_alnum = true;
        } else {
            return false;
        }
    }
    return !need_alnum;
}

bool is_lower_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// go-digest's DigestRegexpAnchored: [a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+
bool matches_digest_grammar(std::string_view algorithm, std::string_view encoded) noexcept {
    bool need_component = true;
    for (char c : algorithm) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            need_component = false;
        } else if ((c == '.' || c == '+' || c == '_' || c == '-') && !need_component) {
            need_component = true;
        } else {
            return false;
        }
    }
    if (need_component || encoded.empty()) return false;
    for (char c : encoded)
        if (!(is_alnum(c) || c == '=' || c == '_' || c == '-')) return false;
    return true;
}

} // namespace

Status validate_identifier(std::string_view s) {
    if (s.empty()) return invalid_argument("identifier must not be empty");
    if (s.size() > kMaxIdentifierLength)
        return invalid_argument("identifier " + go_quote(s) + " greater than maximum length (" +
                                std::to_string(kMaxIdentifierLength) + " characters)");
    if (!matches_identifier(s))
        return invalid_argument("identifier " + go_quote(s) + " must match " +
                                std::string(kIdentifierPattern));
    return ok_status();
}

Status validate_label(std::string_view key, std::string_view value) {
    if (key.size() + value.size() <= kMaxLabelSize) return ok_status();
    // containerd cuts the key at 10 bytes, even inside a UTF-8 sequence.
    return invalid_argument("label key and value greater than maximum size (" +
                            std::to_string(kMaxLabelSize) +
                            " bytes), key: " + std::string(key.substr(0, 10)));
}

Status validate_labels(const std::map<std::string, std::string>& labels) {
    for (const auto& [k, v] : labels)
        GANTRY_TRY(validate_label(k, v));
    return ok_status();
}

Status validate_digest(std::string_view digest) {
    const Error bad_format = invalid_argument("invalid checksum digest format");
    const auto colon = digest.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == digest.size())
        return bad_format;
    const std::string_view algorithm = digest.substr(0, colon);
    const std::string_view encoded = digest.substr(colon + 1);

    struct Known {
        std::string_view name;
        std::size_t hex_digits;
    };
    static constexpr std::array<Known, 3> kKnown{{{"sha256", 64}, {"sha384", 96}, {"sha512", 128}}};
    for (const auto& known : kKnown) {
        if (algorithm != known.name) continue;
        if (encoded.size() != known.hex_digits)
            return invalid_argument("invalid checksum digest length");
        for (char c : encoded)
            if (!is_lower_hex(c)) return bad_format;
        return ok_status();
    }
    if (!matches_digest_grammar(algorithm, encoded)) return bad_format;
    return invalid_argument("unsupported digest algorithm");
}

} // namespace gantry::metadata
