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
    // The same on a background thread: write() only copies into a bounded queue of chunks
    // (`depth` of `chunk` bytes), so walking the trees overlaps with compressing and storing.
    // `out` is called on that thread. An error there is returned by a later write() or by
    // finish(); destruction without finish() stops the thread and drops queued data.
    static Result<std::unique_ptr<Compressor>> create_pipelined(Compression c, ByteSink out,
                                                                std::size_t chunk = 1 << 20,
                                                                std::size_t depth = 4);
};

} // namespace gantry::archive
