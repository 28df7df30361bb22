// SHA-256, only to name the shim socket as containerd-shim-runc-v2 does (protocol-facts §10.3);
// a few hundred bytes of code instead of linking libcrypto.
#pragma once

#include <string>
#include <string_view>

namespace gantry::shim {

std::string sha256Hex(std::string_view data);

} // namespace gantry::shim
