// Preparing the gRPC socket path: a stale socket left by a crashed daemon is replaced, a socket
// on which a live daemon answers is never touched.
#pragma once

#include "core/errors.hpp"

#include <string>
#include <sys/types.h>

namespace gantry::daemon {

// Creates the parent directory (0711 when we create it), refuses paths longer than a unix
// socket allows, a path that exists and is not a socket, and a socket with a live listener;
// removes a dead socket.
Status prepare_socket_path(const std::string& path);

// After the server listens: 0660 and the configured owner.
Status secure_socket(const std::string& path, uid_t uid, gid_t gid);

} // namespace gantry::daemon
