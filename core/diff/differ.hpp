// Layers in and out of filesystems (protocol-facts.md §2.4, §8.6): Apply unpacks a layer blob
// from the content store onto mounts; Compare writes the difference between two mounts into the
// content store as a layer. Implemented by plugins/diff ("walking"), io.containerd.differ.v1.
#pragma once

#include "core/errors.hpp"
#include "core/mount/mount.hpp"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace gantry::diff {

struct Descriptor {
    std::string media_type;
    std::string digest;
    std::int64_t size = 0;
    std::map<std::string, std::string> annotations;
};

struct CompareOptions {
    std::string media_type;                    // empty: application/vnd.oci.image.layer.v1.tar+gzip
    std::string ref;                           // ingest ref; empty: a unique one
    std::map<std::string, std::string> labels; // set on the committed blob
};

class Differ {
public:
    virtual ~Differ() = default;
    // Reads `layer` from the content store in `ns`, decompresses it by media type (gzip, zstd,
    // Docker's auto-detected .tar), and applies it onto `mounts` with whiteouts. Returns
    // {application/vnd.oci.image.layer.v1.tar, digest and size of the uncompressed stream}.
    // NotImplemented for a media type it does not handle; InvalidArgument for a hostile or
    // corrupt layer (nothing outside the root is touched).
    virtual Result<Descriptor> apply(std::string_view ns, const Descriptor& layer,
                                     std::span<const mount::Mount> mounts) = 0;
    // Diffs `lower` against `upper` and commits the layer to the content store in `ns` under
    // `lease` (may be empty), labelled containerd.io/uncompressed=<diffID>.
    virtual Result<Descriptor> compare(std::string_view ns, std::string_view lease,
                                       std::span<const mount::Mount> lower,
                                       std::span<const mount::Mount> upper,
                                       const CompareOptions& options) = 0;
};

} // namespace gantry::diff
