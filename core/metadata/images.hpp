// Images (protocol-facts §2.6, §4, §5.3): the records under v1/<ns>/images/<name>, with
// containerd's validation and update-mask rules (metadata/images.go in containerd 1.6), and the
// images::Store interface the Images gRPC service talks to (implemented by plugins/images).
//
// Record layout: createdat, updatedat = time; [target] digest, mediatype, size = varint;
// [labels]; [annotations] = the target's annotations. Empty label and annotation values are
// never stored.
#pragma once

#include "core/errors.hpp"
#include "core/filters/filter.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/lmdb.hpp"
#include "core/metadata/value_encoding.hpp"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::images {

struct Descriptor {
    std::string media_type;
    std::string digest;
    std::int64_t size = 0;
    std::map<std::string, std::string> annotations;

    bool operator==(const Descriptor&) const = default;
};

struct Image {
    std::string name;
    std::map<std::string, std::string> labels;
    Descriptor target;
    metadata::Timestamp created_at;
    metadata::Timestamp updated_at;

    bool operator==(const Image&) const = default;
};

// containerd's validateImage: name non-empty, labels within size, target with a valid digest,
// size > 0 and a media type. InvalidArgument with containerd's messages.
Status validate_image(const Image& image);

// The image as a filter sees it: name, target.digest, target.mediatype, labels.<k>,
// annotations.<k> (protocol-facts §3.5).
bool matches(const filters::Filter& filter, const Image& image);

// What the Images service needs; one call per RPC, each in its own transaction. Events and
// garbage collection are the implementation's business (plugins/images).
class Store {
public:
    virtual ~Store() = default;
    virtual Result<Image> get(std::string_view ns, std::string_view name) = 0;
    // `filters`: containerd filter strings, OR-ed; a parse error is InvalidArgument.
    virtual Result<std::vector<Image>> list(std::string_view ns,
                                            std::span<const std::string> filters) = 0;
    // Sets created_at = updated_at = now (UTC). AlreadyExists `image "<n>"` for a duplicate.
    virtual Result<Image> create(std::string_view ns, const Image& image) = 0;
    // Mask paths per protocol-facts §4; none replaces the image. NotFound if absent.
    virtual Result<Image> update(std::string_view ns, const Image& image,
                                 std::span<const std::string> paths) = 0;
    // NotFound if absent. With `sync`, returns after a garbage collection pass.
    virtual Status remove(std::string_view ns, std::string_view name, bool sync) = 0;
};

} // namespace gantry::images

namespace gantry::metadata::images {

using gantry::images::Image;

// NotFound `image "<n>"` when absent.
Result<Image> get(const Txn& txn, std::string_view ns, std::string_view name);
// The namespace's images in name order that match `filter`.
Result<std::vector<Image>> list(const Txn& txn, std::string_view ns, const filters::Filter& filter);
// Validates, stamps the times and writes. Returns the stored image.
Result<Image> create(WriteTxn& txn, std::string_view ns, const Image& image, Timestamp now);
// Applies the mask (or replaces), validates the result, keeps created_at, stamps updated_at.
Result<Image> update(WriteTxn& txn, std::string_view ns, const Image& image,
                     std::span<const std::string> paths, Timestamp now);
// NotFound `image "<n>"` when absent.
Status remove(WriteTxn& txn, std::string_view ns, std::string_view name);

} // namespace gantry::metadata::images
