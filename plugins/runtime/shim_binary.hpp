// Which shim binary runs a runtime (protocol-facts §10.1): io.containerd.runc.v2 becomes
// containerd-shim-runc-v2, looked up next to the name's directory part, on $PATH, then beside
// gantryd's own executable. A per-runtime path from the config wins over all of that.
#pragma once

#include "core/errors.hpp"

#include <map>
#include <string>
#include <string_view>

namespace gantry::runtime {

// "io.containerd.runc.v2" -> "containerd-shim-runc-v2". InvalidArgument for a name with fewer
// than two dot-separated parts.
Result<std::string> shim_binary_name(std::string_view runtime);

// The absolute path of the shim for `runtime`. NotFound naming the binary and where it looked.
Result<std::string> resolve_shim(std::string_view runtime,
                                 const std::map<std::string, std::string, std::less<>>& overrides);

} // namespace gantry::runtime
