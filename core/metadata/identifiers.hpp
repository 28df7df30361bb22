// containerd's input validation (protocol-facts.md §6.4): identifiers, label sizes, digests.
// Every failure is InvalidArgument with containerd's message, without the ": invalid argument"
// suffix (Error::wire_message adds it). Callers add their context, e.g. "namespace.Labels: ".
#pragma once

#include "core/errors.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace gantry::metadata {

inline constexpr std::size_t kMaxIdentifierLength = 76;
inline constexpr std::size_t kMaxLabelSize = 4096;
// The pattern as containerd's Go regexp prints it in its error message.
inline constexpr std::string_view kIdentifierPattern = "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$";

// Namespaces, container ids, task and exec ids, event topic components: 1..76 bytes of
// alphanumerics, joined by single '.', '_' or '-'.
Status validate_identifier(std::string_view s);

// len(key) + len(value) must not exceed 4096 bytes.
Status validate_label(std::string_view key, std::string_view value);
// The first offending label, in key order.
Status validate_labels(const std::map<std::string, std::string>& labels);

// "<alg>:<hex>" with alg sha256, sha384 or sha512 and exactly 64, 96 or 128 lowercase hex
// digits; go-digest's messages.
Status validate_digest(std::string_view digest);

} // namespace gantry::metadata
