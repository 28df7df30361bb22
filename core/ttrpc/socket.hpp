// Unix sockets for ttrpc: listening with a fixed mode, dialing a "unix://" address, and the
// same-user check every ttrpc endpoint applies to its peers (protocol-facts §1.1).
#pragma once

#include "core/errors.hpp"
#include "core/fs/unique_fd.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace gantry::ttrpc {

// "unix:///run/x.sock" and "/run/x.sock" both name /run/x.sock. Other schemes are
// InvalidArgument.
Result<std::string> socket_path(std::string_view address);

// A non-blocking, close-on-exec listening socket at `path` with `mode`. A stale socket file is
// replaced; a path that exists and is not a socket is AlreadyExists.
Result<fs::UniqueFd> listen_unix(const std::string& path, mode_t mode);

// A connected, close-on-exec, blocking stream socket. Unavailable when nobody listens.
Result<fs::UniqueFd> dial_unix(std::string_view address);

// True when the peer runs with our effective uid and gid (ttrpc's UnixSocketRequireSameUser).
bool peer_is_same_user(int fd);

} // namespace gantry::ttrpc
