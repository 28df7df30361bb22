// The walking differ: containerd's default io.containerd.differ.v1 (diff/walking and
// diff/apply), over the namespaced content store.
//
// apply(): the blob is read from the content store, decompressed by media type and hashed on a
// background thread (archive::LayerStream) while archive::apply_layer() writes the files. A
// single overlay mount with an upperdir is written straight into the upperdir (whiteouts as
// overlay whiteouts, no mount); any other mounts are mounted on a temporary directory under the
// plugin's state directory.
//
// compare(): lower and upper are mounted read-only on temporary directories and diffed with
// archive::write_diff(); when the upper is an overlay whose lowers are exactly the lower
// mounts, only its upperdir is walked (archive::write_overlay_diff()). The tar is compressed as
// the media type asks and streamed into a content-store ingest, hashing the uncompressed bytes
// on the way for the containerd.io/uncompressed label.
#pragma once

#include "core/diff/differ.hpp"

#include <filesystem>
#include <memory>

namespace gantry::content {
class Store;
}

namespace gantry::diff {

inline constexpr std::string_view kMediaTypeLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kMediaTypeLayerGzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kMediaTypeLayerZstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kUncompressedLabel = "containerd.io/uncompressed";

class WalkingDiffer final : public Differ {
public:
    // `state` holds temporary mount points; created if missing.
    WalkingDiffer(std::shared_ptr<content::Store> store, std::filesystem::path state);

    Result<Descriptor> apply(std::string_view ns, const Descriptor& layer,
                             std::span<const mount::Mount> mounts) override;
    Result<Descriptor> compare(std::string_view ns, std::string_view lease,
                               std::span<const mount::Mount> lower,
                               std::span<const mount::Mount> upper,
                               const CompareOptions& options) override;

private:
    std::shared_ptr<content::Store> store_;
    std::filesystem::path state_;
};

// The upperdir of `upper` when it is one overlay mount stacked exactly on `lower` (a single
// bind mount of its only lowerdir, or an overlay with the same lowerdirs and no upperdir);
// empty otherwise. Then the upperdir alone holds the changes.
std::string overlay_upperdir(std::span<const mount::Mount> lower,
                             std::span<const mount::Mount> upper);

// `mounts` made read-only: "ro" added; an overlay's upperdir becomes its topmost lowerdir and
// the workdir goes, so the copy never contends with a writable mount of the same snapshot.
std::vector<mount::Mount> read_only_mounts(std::span<const mount::Mount> mounts);

} // namespace gantry::diff
