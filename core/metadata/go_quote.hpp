// Go's %q for strings (strconv.Quote), so names inside our error messages read exactly as
// containerd's do: `namespace "foo" must be empty`, `identifier "a b" must match ...`.
#pragma once

#include <string>
#include <string_view>

namespace gantry::metadata {

// Double-quoted, with \" \\ \a \b \f \n \r \t \v, \xHH for other control bytes and invalid UTF-8,
// \uHHHH / \UHHHHHHHH for non-printable code points. Go decides printability from full Unicode
// tables; this knows the control, format, separator and private-use ranges, which is what names
// meet in practice, and treats other valid code points as printable.
std::string go_quote(std::string_view s);

} // namespace gantry::metadata
