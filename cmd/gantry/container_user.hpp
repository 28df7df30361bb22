// Resolving a process user inside a container's snapshot, as containerd's client does for
// `ctr run` (the image config's User) and `ctr task exec --user`: the snapshot is mounted
// read-only on a temporary directory, its /etc/passwd and /etc/group are read inside that root
// (image_user.hpp), and the mount is gone before the result is returned.
#pragma once

#include "cmd/gantry/client.hpp"
#include "cmd/gantry/image_user.hpp"

#include <functional>
#include <string>

namespace gantry::cli {

using UserResolver = std::function<Result<ProcessUser>(const ContainerRoot&)>;

// Mounts snapshot `key` of `snapshotter` read-only and runs `resolve` on its root. An overlay
// snapshot is mounted as a lower-only overlay (its upper dir becomes the top lower dir), so no
// upper or work dir is shared with a running container's mount; a bind mount is made "ro".
Result<ProcessUser> user_in_snapshot(const Client& client, const std::string& snapshotter,
                                     const std::string& key, const UserResolver& resolve);

} // namespace gantry::cli
