// Byte streams for layer blobs (protocol-facts.md §8.5): a pull-style source, decompression
// chosen by media type or sniffed from magic bytes, a sha256 digester over the uncompressed
// bytes (the layer's diff ID), and a pipeline that moves read+decompress+hash onto a background
// thread so that it overlaps with writing files (apply.hpp).
//
// The usual chain, built by LayerStream::open:
//   raw blob (ReaderAtSource / FdSource) -> decompressor -> digester -> [pipeline thread] -> tar
//
// Errors: a corrupt or truncated compressed stream, or trailing garbage after it, is
// InvalidArgument (containerd's differ fails the apply; the client sees it as a bad layer);
// I/O errors keep their errno class; a cancelled pipeline is Canceled. No exception crosses a
// thread: the background thread stores its Error and the consumer returns it.
#pragma once

#include "core/errors.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gantry::content {
class ReaderAt;
}

namespace gantry::archive {

// A pull-style stream of bytes. Not thread-safe; one reader at a time.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    // Reads up to buf.size() bytes into buf; 0 means the end of the stream (and stays 0).
    virtual Result<std::size_t> read(std::span<char> buf) = 0;
    // Zero-copy variant: the next bytes, either written into `scratch` or a view of the
    // source's own storage. The view stays valid until the next call on this source. Empty
    // means end of stream. The default reads into `scratch`.
    virtual Result<std::span<const char>> next(std::span<char> scratch);
};

// Reads all of `src` and drops it (e.g. trailing data after a tar's end-of-archive marker,
// which still counts towards the layer's digest). Returns the number of bytes dropped.
Result<std::int64_t> drain(ByteSource& src);

// A view of memory owned by the caller (tests, small blobs).
class SpanSource final : public ByteSource {
public:
    explicit SpanSource(std::span<const char> data) : data_(data) {}
    Result<std::size_t> read(std::span<char> buf) override;
    Result<std::span<const char>> next(std::span<char> scratch) override;

private:
    std::span<const char> data_;
};

// Sequential reads from a file descriptor it does not own (a file, a pipe, a socket).
class FdSource final : public ByteSource {
public:
    explicit FdSource(int fd) : fd_(fd) {}
    Result<std::size_t> read(std::span<char> buf) override;

private:
    int fd_;
};

// Sequential reads over a committed content-store blob. Does not own the ReaderAt.
class ReaderAtSource final : public ByteSource {
public:
    explicit ReaderAtSource(content::ReaderAt& ra) : ra_(ra) {}
    Result<std::size_t> read(std::span<char> buf) override;

private:
    content::ReaderAt& ra_;
    std::int64_t offset_ = 0;
};

enum class Compression { None, Gzip, Zstd };
std::string_view compression_name(Compression c) noexcept; // "none", "gzip", "zstd"

// Sniffs the first bytes of a stream (containerd's rule: gzip is 1f 8b 08; zstd is its frame
// magic or a skippable frame). Anything else is None. Needs at most 4 bytes; fewer is fine.
Compression detect_compression(std::span<const char> head) noexcept;

// How a layer of `media_type` is decompressed, as containerd 1.6's differ does it:
//  - OCI layer / non-distributable layer without suffix: Compression::None, read as plain tar.
//  - OCI +gzip or +zstd, and every Docker layer type (rootfs.diff.tar is "compression
//    unknown", .tar.gzip is gzip): std::nullopt, meaning sniff the magic bytes (containerd
//    decompresses all of these through its auto-detecting DecompressStream, so a plain tar
//    under a +gzip type is accepted too).
//  - anything else (unknown types, +encrypted and other suffixes): NotImplemented
//    "unsupported diff media type: <type>".
Result<std::optional<Compression>> layer_compression(std::string_view media_type);
// True for the layer media types of §8.5 (with or without compression suffixes).
bool is_layer_media_type(std::string_view media_type) noexcept;

// Wraps `raw` into a decompressing source. nullopt sniffs the first bytes (None passes the
// bytes through unchanged). Takes ownership of `raw`. gzip accepts concatenated members, zstd
// concatenated frames; a truncated or corrupt stream is InvalidArgument at the read that
// finds it, never a silent short end.
Result<std::unique_ptr<ByteSource>> decompress(std::unique_ptr<ByteSource> raw,
                                               std::optional<Compression> compression);

// Passes bytes through while hashing them (sha256, OpenSSL EVP) and counting them.
class DigestingSource final : public ByteSource {
public:
    explicit DigestingSource(std::unique_ptr<ByteSource> inner);
    ~DigestingSource() override;
    Result<std::size_t> read(std::span<char> buf) override;
    Result<std::span<const char>> next(std::span<char> scratch) override;

    // "sha256:<64 hex>" of the bytes read so far (final once read() returned 0).
    std::string digest() const;
    std::int64_t size() const noexcept { return size_; }

private:
    void update(std::span<const char> bytes);
    std::unique_ptr<ByteSource> inner_;
    struct Hasher;
    std::unique_ptr<Hasher> hasher_;
    std::int64_t size_ = 0;
};

struct PipelineOptions {
    std::size_t chunk_size = 1 << 20; // bytes per ring slot
    std::size_t depth = 4;            // ring slots: at most chunk_size * depth bytes buffered
};

// Runs `upstream` on a background thread, which fills a bounded ring of chunks while the
// consumer drains it through read()/next(). The producer blocks when the ring is full, so
// memory stays bounded. An upstream error is returned by the consumer's read once the chunks
// before it are consumed. cancel() (or destruction) stops and joins the thread; a read after
// cancel() returns Canceled. `upstream` is only touched by the background thread until it has
// finished (end of stream, error or cancel), after which upstream() may be used again.
class PipelinedSource final : public ByteSource {
public:
    explicit PipelinedSource(std::unique_ptr<ByteSource> upstream, PipelineOptions options = {});
    ~PipelinedSource() override;
    PipelinedSource(const PipelinedSource&) = delete;
    PipelinedSource& operator=(const PipelinedSource&) = delete;

    Result<std::size_t> read(std::span<char> buf) override;
    Result<std::span<const char>> next(std::span<char> scratch) override;
    void cancel();

    // Stops (if still running) and joins the producer; then the upstream is the caller's
    // again. Reads after this return Canceled.
    ByteSource& upstream();

private:
    struct State;
    std::unique_ptr<State> state_;
};

struct LayerStreamOptions {
    // nullopt: sniff (use layer_compression(media_type) to get this from a descriptor).
    std::optional<Compression> compression;
    // Decompress and hash on a background thread (worth it with >= 2 cores).
    bool pipelined = true;
    PipelineOptions pipeline;
};

// The uncompressed tar of one layer blob, with its diff ID computed on the way:
// raw -> decompress -> DigestingSource -> (PipelinedSource). Read it to the end (apply_layer
// drains trailing bytes itself), then digest()/size() are the layer's diff ID and uncompressed
// size, as containerd's differ reports them.
class LayerStream final : public ByteSource {
public:
    static Result<std::unique_ptr<LayerStream>> open(std::unique_ptr<ByteSource> raw,
                                                     const LayerStreamOptions& options = {});
    ~LayerStream() override;

    Result<std::size_t> read(std::span<char> buf) override;
    Result<std::span<const char>> next(std::span<char> scratch) override;
    void cancel();

    // Valid once a read returned end of stream.
    std::string digest();
    std::int64_t size();
    Compression compression() const noexcept { return compression_; }

private:
    LayerStream() = default;
    Compression compression_ = Compression::None;
    DigestingSource* digester_ = nullptr; // owned by the chain below
    std::unique_ptr<ByteSource> chain_;   // the DigestingSource itself, or a PipelinedSource
    PipelinedSource* pipeline_ = nullptr;
};

} // namespace gantry::archive
