// Unpacking an image into a snapshotter through gantryd's services, as containerd's client does
// (protocol-facts §8.4): for each layer, the snapshot named by its chain ID is reused when it
// exists, otherwise prepared on its parent, the layer applied by Diff.Apply (which decompresses
// and verifies the uncompressed digest on the daemon side), and committed under the chain ID.
// Used by `images import`, `images mount` and later `run`.
#pragma once

#include "cmd/gantry/client.hpp"
#include "cmd/gantry/oci.hpp"
#include "core/errors.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::cli {

// What an image's root filesystem is made of, for this machine's platform.
struct ImageRootfs {
    oci::Descriptor manifest;
    oci::Descriptor config;
    std::vector<oci::Descriptor> layers;
    std::vector<std::string> diff_ids;
    std::vector<std::string> chain_ids;
    std::string chain_id() const { return chain_ids.empty() ? "" : chain_ids.back(); }
};

// Reads the index (if any), the manifest for this platform and the config from the content
// store. InvalidArgument for a malformed image (layer count different from diff_ids, a non-layer
// media type, unparseable JSON); NotFound when a blob is missing.
Result<ImageRootfs> resolve_rootfs(const Client& client, const oci::Descriptor& target);

// The snapshotter to use: `flag` if given, else the namespace's containerd.io/defaults/snapshotter
// label, else "overlayfs".
Result<std::string> choose_snapshotter(const Client& client, const std::string& flag);

struct UnpackStats {
    int applied = 0; // layers applied now
    int present = 0; // layers found already unpacked
};

// Unpacks `rootfs` into `snapshotter` under `lease` (may be empty) and labels the config with
// containerd.io/gc.ref.snapshot.<snapshotter> = the top chain ID. `progress` (may be empty) gets
// one line per layer.
Result<UnpackStats> unpack(const Client& client, const std::string& lease,
                           const std::string& snapshotter, const ImageRootfs& rootfs,
                           const std::function<void(std::string_view)>& progress = {});

// Reads a whole blob (at most `limit` bytes) with Content.Read.
Result<std::string> read_blob(const Client& client, const std::string& digest,
                              std::int64_t limit = 16 << 20);

} // namespace gantry::cli
