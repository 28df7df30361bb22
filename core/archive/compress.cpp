#include "core/archive/compress.hpp"

#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace gantry::archive {

namespace {

constexpr std::size_t kOutChunk = 128 * 1024;

class Plain final : public Compressor {
public:
    explicit Plain(ByteSink out) : out_(std::move(out)) {}
    Status write(std::string_view data) override { return data.empty() ? ok_status() : out_(data); }
    Status finish() override { return ok_status(); }

private:
    ByteSink out_;
};

class Gzip final : public Compressor {
public:
    explicit Gzip(ByteSink out) : out_(std::move(out)), buf_(kOutChunk) {}
    ~Gzip() override {
        if (initialised_) deflateEnd(&z_);
    }

    Status init() {
        // windowBits 15 + 16: a gzip wrapper (header and CRC trailer), not raw zlib.
        if (deflateInit2(&z_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return internal_error("gzip: cannot initialise the compressor");
        initialised_ = true;
        return ok_status();
    }

    Status write(std::string_view data) override { return run(data, Z_NO_FLUSH); }
    Status finish() override { return run({}, Z_FINISH); }

private:
    Status run(std::string_view data, int flush) {
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        z_.avail_in = static_cast<uInt>(data.size());
        for (;;) {
            z_.next_out = reinterpret_cast<Bytef*>(buf_.data());
            z_.avail_out = static_cast<uInt>(buf_.size());
            int rc = deflate(&z_, flush);
            if (rc == Z_STREAM_ERROR) return internal_error("gzip: compressor state broken");
            std::size_t produced = buf_.size() - z_.avail_out;
            if (produced > 0) GANTRY_TRY(out_(std::string_view(buf_.data(), produced)));
            if (flush == Z_FINISH) {
                if (rc == Z_STREAM_END) return ok_status();
            } else if (z_.avail_in == 0 && z_.avail_out != 0) {
                return ok_status();
            }
        }
    }

    ByteSink out_;
    std::vector<char> buf_;
    z_stream z_{};
    bool initialised_ = false;
};

class Zstd final : public Compressor {
public:
    explicit Zstd(ByteSink out) : out_(std::move(out)), buf_(ZSTD_CStreamOutSize()) {}
    ~Zstd() override { ZSTD_freeCCtx(cctx_); }

    Status init() {
        cctx_ = ZSTD_createCCtx();
        if (cctx_ == nullptr) return internal_error("zstd: cannot create a compression context");
        if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 3)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1)))
            return internal_error("zstd: cannot set compression parameters");
        return ok_status();
    }

    Status write(std::string_view data) override { return run(data, ZSTD_e_continue); }
    Status finish() override { return run({}, ZSTD_e_end); }

private:
    Status run(std::string_view data, ZSTD_EndDirective mode) {
        ZSTD_inBuffer in{data.data(), data.size(), 0};
        for (;;) {
            ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
            std::size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
            if (ZSTD_isError(left))
                return internal_error(std::string("zstd: ") + ZSTD_getErrorName(left));
            if (out.pos > 0) GANTRY_TRY(out_(std::string_view(buf_.data(), out.pos)));
            if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return ok_status();
        }
    }

    ByteSink out_;
    std::vector<char> buf_;
    ZSTD_CCtx* cctx_ = nullptr;
};

} // namespace

Result<std::unique_ptr<Compressor>> Compressor::create(Compression c, ByteSink out) {
    switch (c) {
    case Compression::None:
        return std::unique_ptr<Compressor>(std::make_unique<Plain>(std::move(out)));
    case Compression::Gzip: {
        auto g = std::make_unique<Gzip>(std::move(out));
        GANTRY_TRY(g->init());
        return std::unique_ptr<Compressor>(std::move(g));
    }
    case Compression::Zstd: {
        auto z = std::make_unique<Zstd>(std::move(out));
        GANTRY_TRY(z->init());
        return std::unique_ptr<Compressor>(std::move(z));
    }
    }
    return invalid_argument("unknown compression");
}

} // namespace gantry::archive
