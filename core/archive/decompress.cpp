#include "core/archive/decompress.hpp"

#include "core/content/store.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <openssl/evp.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace gantry::archive {

Result<std::span<const char>> ByteSource::next(std::span<char> scratch) {
    GANTRY_ASSIGN_OR_RETURN(std::size_t n, read(scratch));
    return std::span<const char>(scratch.data(), n);
}

Result<std::int64_t> drain(ByteSource& src) {
    std::vector<char> scratch(64 * 1024);
    std::int64_t total = 0;
    for (;;) {
        GANTRY_ASSIGN_OR_RETURN(auto chunk, src.next(scratch));
        if (chunk.empty()) return total;
        total += static_cast<std::int64_t>(chunk.size());
    }
}

// ---- simple sources ----

Result<std::size_t> SpanSource::read(std::span<char> buf) {
    std::size_t n = std::min(buf.size(), data_.size());
    std::memcpy(buf.data(), data_.data(), n);
    data_ = data_.subspan(n);
    return n;
}

Result<std::span<const char>> SpanSource::next(std::span<char> scratch) {
    std::size_t n = std::min(std::max<std::size_t>(scratch.size(), 1 << 20), data_.size());
    auto out = data_.first(n);
    data_ = data_.subspan(n);
    return out;
}

Result<std::size_t> FdSource::read(std::span<char> buf) {
    for (;;) {
        ssize_t n = ::read(fd_, buf.data(), buf.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) return from_errno(errno, "read layer stream");
    }
}

Result<std::size_t> ReaderAtSource::read(std::span<char> buf) {
    GANTRY_ASSIGN_OR_RETURN(std::size_t n, ra_.read_at(offset_, buf));
    offset_ += static_cast<std::int64_t>(n);
    return n;
}

// ---- media types and magic ----

std::string_view compression_name(Compression c) noexcept {
    switch (c) {
    case Compression::None:
        return "none";
    case Compression::Gzip:
        return "gzip";
    case Compression::Zstd:
        return "zstd";
    }
    return "unknown";
}

Compression detect_compression(std::span<const char> head) noexcept {
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(head[i]); };
    if (head.size() >= 3 && b(0) == 0x1f && b(1) == 0x8b && b(2) == 0x08) return Compression::Gzip;
    if (head.size() >= 4) {
        std::uint32_t le = b(0) | (b(1) << 8) | (b(2) << 16) | (std::uint32_t{b(3)} << 24);
        if (le == 0xFD2FB528u) return Compression::Zstd;                 // frame magic
        if ((le & 0xFFFFFFF0u) == 0x184D2A50u) return Compression::Zstd; // skippable frame
    }
    return Compression::None;
}

namespace {

constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view kOciLayerNondist =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr std::string_view kDockerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar";
constexpr std::string_view kDockerForeignGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

struct ParsedType {
    std::string_view base;
    std::vector<std::string_view> ext; // sorted, as containerd compares them
};

ParsedType parse_media_type(std::string_view mt) {
    ParsedType p;
    auto plus = mt.find('+');
    p.base = mt.substr(0, plus);
    while (plus != std::string_view::npos) {
        mt = mt.substr(plus + 1);
        plus = mt.find('+');
        p.ext.push_back(mt.substr(0, plus));
    }
    std::sort(p.ext.begin(), p.ext.end());
    return p;
}

} // namespace

bool is_layer_media_type(std::string_view mt) noexcept {
    return mt.starts_with("application/vnd.oci.image.layer.") || mt == kDockerLayer ||
           mt == kDockerLayerGzip || mt == kDockerForeign || mt == kDockerForeignGzip;
}

Result<std::optional<Compression>> layer_compression(std::string_view media_type) {
    auto p = parse_media_type(media_type);
    auto unsupported = [&] {
        return Error(Errc::NotImplemented,
                     "unsupported diff media type: " + std::string(media_type));
    };
    if (p.base == kDockerLayer || p.base == kDockerForeign || p.base == kDockerLayerGzip ||
        p.base == kDockerForeignGzip) {
        if (!p.ext.empty()) return unsupported(); // wrapped (e.g. encrypted)
        return std::optional<Compression>{};
    }
    if (p.base == kOciLayer || p.base == kOciLayerNondist) {
        if (p.ext.empty()) return std::optional<Compression>{Compression::None};
        if (p.ext.size() == 1 && (p.ext[0] == "gzip" || p.ext[0] == "zstd"))
            return std::optional<Compression>{};
        return unsupported();
    }
    return unsupported();
}

// ---- decompression ----

namespace {

constexpr std::size_t kInBuf = 256 * 1024;

// Bytes already read from `inner` (while sniffing) are returned first.
class PrefixedSource final : public ByteSource {
public:
    PrefixedSource(std::vector<char> prefix, std::unique_ptr<ByteSource> inner)
        : prefix_(std::move(prefix)), inner_(std::move(inner)) {}
    Result<std::size_t> read(std::span<char> buf) override {
        if (pos_ < prefix_.size()) {
            std::size_t n = std::min(buf.size(), prefix_.size() - pos_);
            std::memcpy(buf.data(), prefix_.data() + pos_, n);
            pos_ += n;
            return n;
        }
        return inner_->read(buf);
    }
    Result<std::span<const char>> next(std::span<char> scratch) override {
        if (pos_ < prefix_.size()) {
            auto out = std::span<const char>(prefix_).subspan(pos_);
            pos_ = prefix_.size();
            return out;
        }
        return inner_->next(scratch);
    }

private:
    std::vector<char> prefix_;
    std::size_t pos_ = 0;
    std::unique_ptr<ByteSource> inner_;
};

Error corrupt(std::string_view what, std::string_view detail) {
    return invalid_argument(std::string(what) + " stream: " + std::string(detail));
}

class GzipSource final : public ByteSource {
public:
    explicit GzipSource(std::unique_ptr<ByteSource> raw) : raw_(std::move(raw)), in_(kInBuf) {
        std::memset(&z_, 0, sizeof z_);
        // 16 + MAX_WBITS: gzip wrapper only (no raw zlib), as Go's gzip reader.
        init_ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
    }
    ~GzipSource() override {
        if (init_ok_) inflateEnd(&z_);
    }

    Result<std::size_t> read(std::span<char> buf) override {
        if (!init_ok_) return internal_error("gzip: inflateInit failed");
        if (done_ || buf.empty()) return std::size_t{0};
        z_.next_out = reinterpret_cast<Bytef*>(buf.data());
        z_.avail_out = static_cast<uInt>(std::min<std::size_t>(buf.size(), 1u << 30));
        while (z_.avail_out > 0) {
            if (z_.avail_in == 0 && !eof_) {
                GANTRY_ASSIGN_OR_RETURN(auto chunk, raw_->next(in_));
                if (chunk.empty()) {
                    eof_ = true;
                } else {
                    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
                    z_.avail_in = static_cast<uInt>(chunk.size());
                }
            }
            if (z_.avail_in == 0 && eof_) {
                if (member_ended_) {
                    done_ = true;
                    break;
                }
                return corrupt("gzip", "unexpected end of compressed data (truncated layer)");
            }
            if (member_ended_) {
                // Another member follows (concatenated gzip). It must start with the magic:
                // trailing garbage is an error, as with Go's multistream gzip reader.
                if (z_.avail_in >= 1 && z_.next_in[0] != 0x1f)
                    return corrupt("gzip", "invalid header after end of member");
                inflateReset(&z_);
                member_ended_ = false;
            }
            int rc = inflate(&z_, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                member_ended_ = true;
                continue;
            }
            if (rc == Z_BUF_ERROR) continue; // needs more input
            if (rc != Z_OK) return corrupt("gzip", z_.msg ? z_.msg : "inflate failed");
        }
        return buf.size() - z_.avail_out;
    }

private:
    std::unique_ptr<ByteSource> raw_;
    std::vector<char> in_;
    z_stream z_;
    bool init_ok_ = false;
    bool eof_ = false;
    bool member_ended_ = false;
    bool done_ = false;
};

class ZstdSource final : public ByteSource {
public:
    explicit ZstdSource(std::unique_ptr<ByteSource> raw)
        : raw_(std::move(raw)), dctx_(ZSTD_createDCtx()) {
        // Bound the window like containerd's decoder defaults do (128 MiB): a hostile frame
        // cannot make us allocate gigabytes.
        if (dctx_) ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, 27);
    }
    ~ZstdSource() override { ZSTD_freeDCtx(dctx_); }

    Result<std::size_t> read(std::span<char> buf) override {
        if (!dctx_) return internal_error("zstd: cannot create decoder");
        if (done_ || buf.empty()) return std::size_t{0};
        ZSTD_outBuffer out{buf.data(), buf.size(), 0};
        while (out.pos < out.size) {
            if (in_.pos == in_.size && !eof_) {
                GANTRY_ASSIGN_OR_RETURN(auto chunk, raw_->next(inbuf_));
                if (chunk.empty())
                    eof_ = true;
                else
                    in_ = {chunk.data(), chunk.size(), 0};
            }
            if (in_.pos == in_.size && eof_) {
                // `hint == 0` means the last frame was complete.
                if (hint_ != 0 || !seen_input_)
                    return corrupt("zstd", seen_input_ ? "unexpected end of compressed data "
                                                         "(truncated layer)"
                                                       : "empty stream");
                done_ = true;
                break;
            }
            seen_input_ = true;
            hint_ = ZSTD_decompressStream(dctx_, &out, &in_);
            if (ZSTD_isError(hint_)) return corrupt("zstd", ZSTD_getErrorName(hint_));
        }
        return out.pos;
    }

private:
    std::unique_ptr<ByteSource> raw_;
    std::vector<char> inbuf_ = std::vector<char>(kInBuf);
    ZSTD_inBuffer in_{nullptr, 0, 0};
    ZSTD_DCtx* dctx_;
    std::size_t hint_ = 0;
    bool eof_ = false;
    bool done_ = false;
    bool seen_input_ = false;
};

struct Opened {
    std::unique_ptr<ByteSource> source;
    Compression compression;
};

Result<Opened> open_decompressor(std::unique_ptr<ByteSource> raw, std::optional<Compression> c) {
    if (!raw) return invalid_argument("no layer stream");
    Compression actual = Compression::None;
    if (c) {
        actual = *c;
    } else {
        // Sniff: read up to 4 bytes (reads may be short), then put them back in front.
        std::vector<char> head(4);
        std::size_t got = 0;
        while (got < head.size()) {
            GANTRY_ASSIGN_OR_RETURN(std::size_t n, raw->read(std::span<char>(head).subspan(got)));
            if (n == 0) break;
            got += n;
        }
        head.resize(got);
        actual = detect_compression(head);
        raw = std::make_unique<PrefixedSource>(std::move(head), std::move(raw));
    }
    switch (actual) {
    case Compression::None:
        return Opened{std::move(raw), actual};
    case Compression::Gzip:
        return Opened{std::make_unique<GzipSource>(std::move(raw)), actual};
    case Compression::Zstd:
        return Opened{std::make_unique<ZstdSource>(std::move(raw)), actual};
    }
    return internal_error("unknown compression");
}

} // namespace

Result<std::unique_ptr<ByteSource>> decompress(std::unique_ptr<ByteSource> raw,
                                               std::optional<Compression> compression) {
    GANTRY_ASSIGN_OR_RETURN(auto opened, open_decompressor(std::move(raw), compression));
    return std::move(opened.source);
}

// ---- digest ----

struct DigestingSource::Hasher {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    Hasher() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
    ~Hasher() { EVP_MD_CTX_free(ctx); }
};

DigestingSource::DigestingSource(std::unique_ptr<ByteSource> inner)
    : inner_(std::move(inner)), hasher_(std::make_unique<Hasher>()) {}
DigestingSource::~DigestingSource() = default;

void DigestingSource::update(std::span<const char> bytes) {
    if (bytes.empty()) return;
    EVP_DigestUpdate(hasher_->ctx, bytes.data(), bytes.size());
    size_ += static_cast<std::int64_t>(bytes.size());
}

Result<std::size_t> DigestingSource::read(std::span<char> buf) {
    GANTRY_ASSIGN_OR_RETURN(std::size_t n, inner_->read(buf));
    update(std::span<const char>(buf.data(), n));
    return n;
}

Result<std::span<const char>> DigestingSource::next(std::span<char> scratch) {
    GANTRY_ASSIGN_OR_RETURN(auto chunk, inner_->next(scratch));
    update(chunk);
    return chunk;
}

std::string DigestingSource::digest() const {
    // Finalise a copy, so that the running hash can continue.
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    EVP_MD_CTX_copy_ex(copy, hasher_->ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(copy, md, &len);
    EVP_MD_CTX_free(copy);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0xf];
    }
    return out;
}

// ---- pipeline ----

struct PipelinedSource::State {
    std::unique_ptr<ByteSource> upstream;

    std::mutex mu;
    std::condition_variable cv_filled; // producer -> consumer
    std::condition_variable cv_free;   // consumer -> producer
    struct Slot {
        std::vector<char> buf;
        std::size_t len = 0;
    };
    std::vector<Slot> ring;
    std::size_t head = 0;  // the slot the consumer takes next (or holds)
    std::size_t count = 0; // published slots, including a held one
    bool producer_done = false;
    std::optional<Error> error; // the producer's error, returned after the data before it
    std::atomic<bool> cancelled{false};

    // Consumer side: while `holding`, ring[head] is the consumer's; `pos` bytes of it are used.
    bool holding = false;
    std::size_t pos = 0;
    std::thread thread;

    void produce() {
        std::size_t tail = 0;
        for (;;) {
            {
                std::unique_lock lk(mu);
                cv_free.wait(lk, [&] { return cancelled.load() || count < ring.size(); });
                if (cancelled) break;
            }
            // ring[tail] is free; only this thread touches it until it is published.
            Slot& s = ring[tail];
            s.len = 0;
            std::optional<Error> err;
            bool eof = false;
            while (s.len < s.buf.size() && !cancelled.load(std::memory_order_relaxed)) {
                auto r = upstream->read(std::span<char>(s.buf).subspan(s.len));
                if (!r.ok()) {
                    err = std::move(r).error();
                    break;
                }
                if (*r == 0) {
                    eof = true;
                    break;
                }
                s.len += *r;
            }
            std::lock_guard lk(mu);
            if (s.len > 0) {
                ++count;
                tail = (tail + 1) % ring.size();
            }
            if (err) error = std::move(err);
            cv_filled.notify_all();
            if (err || eof) break;
        }
        std::lock_guard lk(mu);
        producer_done = true;
        cv_filled.notify_all();
    }

    // Releases the held slot and waits for the next one. nullptr at the end of the stream.
    Result<Slot*> take_next() {
        std::unique_lock lk(mu);
        if (holding) {
            holding = false;
            pos = 0;
            head = (head + 1) % ring.size();
            --count;
            cv_free.notify_all();
        }
        cv_filled.wait(lk, [&] { return cancelled.load() || count > 0 || producer_done; });
        if (cancelled) return Error(Errc::Canceled, "layer stream cancelled");
        if (count > 0) {
            holding = true;
            pos = 0;
            return &ring[head];
        }
        if (error) return *error;
        return static_cast<Slot*>(nullptr);
    }

    void stop() {
        {
            std::lock_guard lk(mu);
            cancelled = true;
        }
        cv_free.notify_all();
        cv_filled.notify_all();
        if (thread.joinable()) thread.join();
    }
};

PipelinedSource::PipelinedSource(std::unique_ptr<ByteSource> upstream, PipelineOptions options)
    : state_(std::make_unique<State>()) {
    state_->upstream = std::move(upstream);
    state_->ring.resize(std::max<std::size_t>(options.depth, 2));
    for (auto& s : state_->ring)
        s.buf.resize(std::max<std::size_t>(options.chunk_size, 4096));
    state_->thread = std::thread([s = state_.get()] { s->produce(); });
}

PipelinedSource::~PipelinedSource() {
    state_->stop();
}

void PipelinedSource::cancel() {
    state_->stop();
}

ByteSource& PipelinedSource::upstream() {
    // Stops the producer if the consumer gave up early (else it would wait on a full ring
    // forever); after the end of the stream this only joins.
    state_->stop();
    return *state_->upstream;
}

Result<std::span<const char>> PipelinedSource::next(std::span<char> /*scratch*/) {
    auto& st = *state_;
    if (st.cancelled) return Error(Errc::Canceled, "layer stream cancelled");
    if (st.holding && st.pos < st.ring[st.head].len) {
        // Mixed read()/next(): the rest of the partly read slot.
        auto& slot = st.ring[st.head];
        auto out = std::span<const char>(slot.buf.data() + st.pos, slot.len - st.pos);
        st.pos = slot.len;
        return out;
    }
    GANTRY_ASSIGN_OR_RETURN(State::Slot * slot, st.take_next());
    if (!slot) return std::span<const char>{};
    st.pos = slot->len;
    return std::span<const char>(slot->buf.data(), slot->len);
}

Result<std::size_t> PipelinedSource::read(std::span<char> buf) {
    auto& st = *state_;
    if (st.cancelled) return Error(Errc::Canceled, "layer stream cancelled");
    if (buf.empty()) return std::size_t{0};
    if (!st.holding || st.pos == st.ring[st.head].len) {
        GANTRY_ASSIGN_OR_RETURN(State::Slot * slot, st.take_next());
        if (!slot) return std::size_t{0};
    }
    auto& slot = st.ring[st.head];
    std::size_t n = std::min(buf.size(), slot.len - st.pos);
    std::memcpy(buf.data(), slot.buf.data() + st.pos, n);
    st.pos += n;
    return n;
}

// ---- layer stream ----

LayerStream::~LayerStream() = default;

Result<std::unique_ptr<LayerStream>> LayerStream::open(std::unique_ptr<ByteSource> raw,
                                                       const LayerStreamOptions& options) {
    GANTRY_ASSIGN_OR_RETURN(auto opened, open_decompressor(std::move(raw), options.compression));
    std::unique_ptr<LayerStream> ls(new LayerStream());
    ls->compression_ = opened.compression;
    auto digester = std::make_unique<DigestingSource>(std::move(opened.source));
    ls->digester_ = digester.get();
    if (options.pipelined) {
        auto pipe = std::make_unique<PipelinedSource>(std::move(digester), options.pipeline);
        ls->pipeline_ = pipe.get();
        ls->chain_ = std::move(pipe);
    } else {
        ls->chain_ = std::move(digester);
    }
    return ls;
}

Result<std::size_t> LayerStream::read(std::span<char> buf) {
    return chain_->read(buf);
}
Result<std::span<const char>> LayerStream::next(std::span<char> scratch) {
    return chain_->next(scratch);
}
void LayerStream::cancel() {
    if (pipeline_) pipeline_->cancel();
}
std::string LayerStream::digest() {
    if (pipeline_) pipeline_->upstream(); // joins: the digester is ours again
    return digester_->digest();
}
std::int64_t LayerStream::size() {
    if (pipeline_) pipeline_->upstream();
    return digester_->size();
}

} // namespace gantry::archive
