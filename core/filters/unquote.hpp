// Decoding of quoted filter strings. containerd uses a variant of Go's strconv.Unquote in which
// `/` and `|` act as quotes like `"` does; the escapes are Go's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gantry::filters::detail {

// `quoted` includes its opening and closing quote (`"`, `'`, `/` or `|`). Returns nullopt where
// containerd reports "quote syntax error".
std::optional<std::string> unquote(std::string_view quoted);

} // namespace gantry::filters::detail
