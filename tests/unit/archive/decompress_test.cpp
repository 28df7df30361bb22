// Layer streams: media types, magic sniffing, gzip/zstd decoding, digests and the pipeline.
#include "core/archive/decompress.hpp"
#include "tar_builder.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <thread>

namespace gantry::archive {
namespace {

using namespace testing;

std::string read_all(ByteSource& s, std::size_t step = 7919) {
    std::string out;
    std::string buf(step, '\0');
    for (;;) {
        auto r = s.read(buf);
        EXPECT_TRUE(r.ok()) << r.error().message();
        if (!r.ok() || *r == 0) return out;
        out.append(buf.data(), *r);
    }
}

TEST(LayerCompression, FollowsContainerdsDiffer) {
    auto c = [](std::string_view mt) { return layer_compression(mt); };
    EXPECT_EQ(*c("application/vnd.oci.image.layer.v1.tar"), std::optional(Compression::None));
    EXPECT_EQ(*c("application/vnd.oci.image.layer.nondistributable.v1.tar"),
              std::optional(Compression::None));
    EXPECT_EQ(*c("application/vnd.oci.image.layer.v1.tar+gzip"), std::nullopt);
    EXPECT_EQ(*c("application/vnd.oci.image.layer.v1.tar+zstd"), std::nullopt);
    EXPECT_EQ(*c("application/vnd.docker.image.rootfs.diff.tar"), std::nullopt);
    EXPECT_EQ(*c("application/vnd.docker.image.rootfs.diff.tar.gzip"), std::nullopt);
    EXPECT_EQ(*c("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), std::nullopt);
    for (auto bad : {"application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
                     "application/vnd.oci.image.layer.v1.tar+bzip2",
                     "application/vnd.oci.image.manifest.v1+json", "", "text/plain"}) {
        auto r = c(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code(), Errc::NotImplemented);
        EXPECT_NE(r.error().message().find("unsupported diff media type"), std::string::npos);
    }
    EXPECT_TRUE(is_layer_media_type("application/vnd.oci.image.layer.v1.tar+zstd"));
    EXPECT_TRUE(is_layer_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"));
    EXPECT_FALSE(is_layer_media_type("application/vnd.oci.image.config.v1+json"));
}

TEST(DetectCompression, Magic) {
    using namespace std::string_literals;
    EXPECT_EQ(detect_compression("\x1f\x8b\x08\x00"s), Compression::Gzip);
    EXPECT_EQ(detect_compression("\x1f\x8b\x07\x00"s), Compression::None);
    EXPECT_EQ(detect_compression("\x28\xb5\x2f\xfd"s), Compression::Zstd);
    EXPECT_EQ(detect_compression("\x5a\x2a\x4d\x18"s), Compression::Zstd); // skippable frame
    EXPECT_EQ(detect_compression("ustar"s), Compression::None);
    EXPECT_EQ(detect_compression(""s), Compression::None);
    EXPECT_EQ(detect_compression("\x1f"s), Compression::None);
}

TEST(Decompress, RoundTripsEveryFormatWithAnyReadSize) {
    std::string data = random_bytes(3 << 20, 4) + std::string(1 << 20, 'a');
    for (auto [packed, declared] : std::vector<std::pair<std::string, std::optional<Compression>>>{
             {gzip(data), std::nullopt},
             {gzip(data, 5), Compression::Gzip}, // concatenated members
             {zstd(data), std::nullopt},
             {zstd(data.substr(0, 1000)) + zstd(data.substr(1000)), Compression::Zstd},
             {data, std::nullopt},
             {data, Compression::None}}) {
        for (std::size_t step : {1u, 4096u, 1u << 20}) {
            if (step == 1 && packed.size() > (1 << 20)) continue;
            auto s = decompress(std::make_unique<SpanSource>(packed), declared);
            ASSERT_TRUE(s.ok());
            EXPECT_EQ(read_all(**s, step), data);
        }
    }
}

TEST(Decompress, DeclaredNoneDoesNotDecompress) {
    std::string gz = gzip("hello");
    auto s = decompress(std::make_unique<SpanSource>(gz), Compression::None);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(read_all(**s), gz);
}

TEST(Decompress, EmptyStreams) {
    auto s = decompress(std::make_unique<SpanSource>(std::string_view()), std::nullopt);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(read_all(**s), "");
    auto g = decompress(std::make_unique<SpanSource>(std::string_view()), Compression::Gzip);
    ASSERT_TRUE(g.ok());
    char b[16];
    auto r = (*g)->read(b);
    ASSERT_FALSE(r.ok()) << "an empty gzip stream is truncated";
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
}

TEST(DigestingSource, Sha256AndSize) {
    std::string data = random_bytes(1 << 20, 8);
    DigestingSource d(std::make_unique<SpanSource>(data));
    EXPECT_EQ(read_all(d, 1000), data);
    EXPECT_EQ(d.digest(), sha256(data));
    EXPECT_EQ(d.size(), std::int64_t(data.size()));
    DigestingSource e(std::make_unique<SpanSource>(std::string_view()));
    EXPECT_EQ(read_all(e), "");
    EXPECT_EQ(e.digest(),
              "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Yields `good` bytes then fails, or blocks until told to go on.
class ScriptedSource final : public ByteSource {
public:
    explicit ScriptedSource(std::string data, bool fail_at_end)
        : data_(std::move(data)), fail_(fail_at_end) {}
    Result<std::size_t> read(std::span<char> buf) override {
        ++reads;
        if (pos_ == data_.size()) {
            if (fail_) return Error(Errc::Unavailable, "disk on fire");
            return std::size_t{0};
        }
        std::size_t n = std::min(buf.size(), std::min<std::size_t>(1000, data_.size() - pos_));
        std::memcpy(buf.data(), data_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    std::atomic<int> reads{0};

private:
    std::string data_;
    std::size_t pos_ = 0;
    bool fail_;
};

TEST(PipelinedSource, DeliversEveryByteInOrder) {
    std::string data = random_bytes(5 << 20, 12);
    PipelinedSource p(std::make_unique<SpanSource>(data), {.chunk_size = 4096, .depth = 3});
    EXPECT_EQ(read_all(p, 1500), data);
    char b[8];
    EXPECT_EQ(*p.read(b), 0u) << "end of stream stays the end";
}

TEST(PipelinedSource, MixedReadAndNext) {
    std::string data = random_bytes(1 << 20, 13);
    PipelinedSource p(std::make_unique<SpanSource>(data), {.chunk_size = 10000, .depth = 2});
    std::string out;
    char b[333];
    for (int i = 0;; ++i) {
        if (i % 2) {
            auto r = p.read(b);
            ASSERT_TRUE(r.ok());
            if (*r == 0) break;
            out.append(b, *r);
        } else {
            auto r = p.next({});
            ASSERT_TRUE(r.ok());
            if (r->empty()) break;
            out.append(r->data(), r->size());
        }
    }
    EXPECT_EQ(out, data);
}

TEST(PipelinedSource, UpstreamErrorArrivesAfterTheData) {
    std::string data = random_bytes(50000, 14);
    PipelinedSource p(std::make_unique<ScriptedSource>(data, true),
                      {.chunk_size = 8192, .depth = 2});
    std::string out;
    char b[4096];
    for (;;) {
        auto r = p.read(b);
        if (!r.ok()) {
            EXPECT_EQ(r.error().code(), Errc::Unavailable);
            EXPECT_EQ(r.error().message(), "disk on fire");
            break;
        }
        ASSERT_NE(*r, 0u) << "the error must not look like the end of the stream";
        out.append(b, *r);
    }
    EXPECT_EQ(out, data);
}

TEST(PipelinedSource, BoundedAndCancellable) {
    auto up = std::make_unique<ScriptedSource>(random_bytes(10 << 20, 15), false);
    auto* raw = up.get();
    PipelinedSource p(std::move(up), {.chunk_size = 4096, .depth = 2});
    // Without a consumer the producer stops after filling the ring (2 x 4096 bytes).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_LE(raw->reads.load(), 2 * 5 + 1);
    char b[100];
    ASSERT_TRUE(p.read(b).ok());
    p.cancel();
    auto r = p.read(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::Canceled);
}

TEST(PipelinedSource, DestroyedMidStreamJoinsCleanly) {
    for (int i = 0; i < 20; ++i) {
        PipelinedSource p(std::make_unique<ScriptedSource>(random_bytes(1 << 20, 16), false),
                          {.chunk_size = 4096, .depth = 2});
        char b[10];
        ASSERT_TRUE(p.read(b).ok());
    }
}

TEST(LayerStream, DigestOfTheUncompressedBytes) {
    std::string tar = random_bytes(2 << 20, 17);
    for (bool pipelined : {false, true}) {
        LayerStreamOptions lo;
        lo.pipelined = pipelined;
        std::string packed = zstd(tar); // SpanSource does not own its bytes
        auto ls = LayerStream::open(std::make_unique<SpanSource>(packed), lo);
        ASSERT_TRUE(ls.ok());
        EXPECT_EQ((*ls)->compression(), Compression::Zstd);
        auto n = drain(**ls);
        ASSERT_TRUE(n.ok()) << n.error().message();
        EXPECT_EQ(*n, std::int64_t(tar.size()));
        EXPECT_EQ((*ls)->digest(), sha256(tar));
        EXPECT_EQ((*ls)->size(), std::int64_t(tar.size()));
    }
}

TEST(LayerStream, DigestAfterAnAbandonedReadDoesNotHang) {
    std::string data = random_bytes(4 << 20, 19);
    LayerStreamOptions lo;
    lo.pipeline = {.chunk_size = 4096, .depth = 2};
    auto ls = LayerStream::open(std::make_unique<SpanSource>(data), lo);
    ASSERT_TRUE(ls.ok());
    char b[10];
    ASSERT_TRUE((*ls)->read(b).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // let the ring fill
    EXPECT_LT((*ls)->size(), std::int64_t(data.size()));
    EXPECT_FALSE((*ls)->read(b).ok());
}

TEST(LayerStream, CorruptionSurfacesThroughThePipeline) {
    std::string gz = gzip(random_bytes(1 << 20, 18));
    std::string half = gz.substr(0, gz.size() / 2);
    auto ls = LayerStream::open(std::make_unique<SpanSource>(half));
    ASSERT_TRUE(ls.ok());
    auto r = drain(**ls);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
    EXPECT_NE(r.error().message().find("gzip"), std::string::npos) << r.error().message();
}

} // namespace
} // namespace gantry::archive
