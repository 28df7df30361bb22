#include "core/archive/compress.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
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

// Producer side: fills `pending_` and hands full chunks to the worker through a bounded queue.
class Pipelined final : public Compressor {
public:
    Pipelined(std::unique_ptr<Compressor> inner, std::size_t chunk, std::size_t depth)
        : inner_(std::move(inner)), chunk_(chunk), depth_(depth) {
        pending_.reserve(chunk_);
        worker_ = std::thread([this] { run(); });
    }
    ~Pipelined() override {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        if (worker_.joinable()) worker_.join();
    }

    Status write(std::string_view data) override {
        while (!data.empty()) {
            std::size_t n = std::min(data.size(), chunk_ - pending_.size());
            pending_.insert(pending_.end(), data.begin(),
                            data.begin() + static_cast<std::ptrdiff_t>(n));
            data.remove_prefix(n);
            if (pending_.size() == chunk_) GANTRY_TRY(hand_over(false));
        }
        return ok_status();
    }

    Status finish() override {
        GANTRY_TRY(hand_over(true));
        worker_.join();
        std::lock_guard lk(mu_);
        if (error_) return *error_;
        return ok_status();
    }

private:
    Status hand_over(bool last) {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return queue_.size() < depth_ || error_ || stop_; });
        if (error_) return *error_;
        if (!pending_.empty()) queue_.push_back(std::move(pending_));
        pending_ = {};
        pending_.reserve(chunk_);
        if (last) done_ = true;
        cv_.notify_all();
        return ok_status();
    }

    void run() {
        for (;;) {
            std::vector<char> chunk;
            {
                std::unique_lock lk(mu_);
                cv_.wait(lk, [&] { return !queue_.empty() || done_ || stop_; });
                if (stop_) return;
                if (queue_.empty()) break; // done_ and drained
                chunk = std::move(queue_.front());
                queue_.pop_front();
                cv_.notify_all();
            }
            if (auto s = inner_->write(std::string_view(chunk.data(), chunk.size())); !s.ok())
                return fail(std::move(s).error());
        }
        if (auto s = inner_->finish(); !s.ok()) fail(std::move(s).error());
    }

    void fail(Error e) {
        std::lock_guard lk(mu_);
        error_ = std::move(e);
        cv_.notify_all();
    }

    std::unique_ptr<Compressor> inner_;
    std::size_t chunk_;
    std::size_t depth_;
    std::vector<char> pending_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::vector<char>> queue_;
    std::optional<Error> error_;
    bool done_ = false;
    bool stop_ = false;
    std::thread worker_;
};

} // namespace

Result<std::unique_ptr<Compressor>>
Compressor::create_pipelined(Compression c, ByteSink out, std::size_t chunk, std::size_t depth) {
    GANTRY_ASSIGN_OR_RETURN(auto inner, create(c, std::move(out)));
    if (chunk == 0 || depth == 0) return invalid_argument("pipeline chunk and depth must be > 0");
    return std::unique_ptr<Compressor>(std::make_unique<Pipelined>(std::move(inner), chunk, depth));
}

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
