// Compressing writers for layers the differ produces: gzip (zlib) and zstd, or none. Bytes go
// in with write(), compressed bytes come out through the sink given at creation; finish()
// flushes the end of the stream. Levels follow containerd's defaults (gzip 6, zstd 3) so blobs
// are comparable in size.
#pragma once

#include "core/archive/decompress.hpp" // Compression
#include "core/archive/diff.hpp"
#include "core/errors.hpp"

#include <memory>
#include <string_view>

namespace gantry::archive {

class Compressor {
public:
    virtual ~Compressor() = default;
    virtual Status write(std::string_view data) = 0;
    // Ends the stream (trailer, checksums). Nothing may be written afterwards.
    virtual Status finish() = 0;

    static Result<std::unique_ptr<Compressor>> create(Compression c, ByteSink out);
};

} // namespace gantry::archive
