#include "plugins/diff/walking_differ.hpp"

#include "core/archive/apply.hpp"
#include "core/archive/compress.hpp"
#include "core/archive/decompress.hpp"
#include "core/archive/diff.hpp"
#include "core/content/store.hpp"
#include "core/log.hpp"

#include <chrono>
#include <cstdio>
#include <openssl/evp.h>
#include <optional>
#include <random>
#include <system_error>

namespace gantry::diff {

namespace {

using archive::Compression;

// sha256 of a byte stream as "sha256:<hex>".
class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
    ~Sha256() { EVP_MD_CTX_free(ctx_); }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::string_view b) {
        EVP_DigestUpdate(ctx_, b.data(), b.size());
        size_ += static_cast<std::int64_t>(b.size());
    }
    std::string hex_digest() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(ctx_, md, &n);
        std::string out = "sha256:";
        char h[3];
        for (unsigned int i = 0; i < n; ++i) {
            std::snprintf(h, sizeof h, "%02x", md[i]);
            out += h;
        }
        return out;
    }
    std::int64_t size() const { return size_; }

private:
    EVP_MD_CTX* ctx_;
    std::int64_t size_ = 0;
};

// containerd's uniqueRef(): "<unix nanos>-<4 base64url chars>".
std::string unique_ref() {
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::random_device rd;
    std::uint32_t r = rd();
    std::string ref = std::to_string(nanos) + "-";
    for (int i = 0; i < 4; ++i)
        ref += kB64[(r >> (6 * i)) & 63];
    return ref;
}

Result<Compression> compare_compression(std::string_view media_type) {
    if (media_type == kMediaTypeLayer) return Compression::None;
    if (media_type == kMediaTypeLayerGzip) return Compression::Gzip;
    if (media_type == kMediaTypeLayerZstd) return Compression::Zstd;
    return not_implemented("unsupported diff media type: " + std::string(media_type));
}

// The overlay mount an apply may write into directly: one overlay mount with an upperdir.
bool writable_overlay(std::span<const mount::Mount> mounts) {
    return mounts.size() == 1 && mounts[0].type == "overlay" &&
           !mount::option_value(mounts[0], "upperdir").empty();
}

// Writes one attempt of a diff into `writer`: the tar through the compressor, hashing it.
struct DiffResult {
    std::string diff_id;
    std::int64_t uncompressed_size = 0;
};

Result<DiffResult> stream_diff(content::Writer& writer, Compression compression,
                               const std::function<Status(const archive::ByteSink&)>& produce) {
    // Compression and the content writer run on their own thread, overlapped with the walk.
    GANTRY_ASSIGN_OR_RETURN(auto compressor,
                            archive::Compressor::create_pipelined(
                                compression, [&](std::string_view b) { return writer.write(b); }));
    Sha256 diff_id;
    archive::ByteSink sink = [&](std::string_view b) -> Status {
        diff_id.update(b);
        return compressor->write(b);
    };
    GANTRY_TRY(produce(sink));
    GANTRY_TRY(compressor->finish());
    return DiffResult{diff_id.hex_digest(), diff_id.size()};
}

} // namespace

std::string overlay_upperdir(std::span<const mount::Mount> lower,
                             std::span<const mount::Mount> upper) {
    if (upper.size() != 1 || upper[0].type != "overlay") return {};
    std::string upperdir = mount::option_value(upper[0], "upperdir");
    if (upperdir.empty()) return {};
    auto upper_lowers = mount::lowerdirs(upper[0]);
    if (lower.size() != 1) return {};
    const auto& l = lower[0];
    if (l.type == "bind" || l.type == "rbind") {
        if (upper_lowers.size() == 1 && upper_lowers[0] == l.source) return upperdir;
        return {};
    }
    if (l.type == "overlay" && mount::option_value(l, "upperdir").empty() &&
        mount::lowerdirs(l) == upper_lowers)
        return upperdir;
    return {};
}

std::vector<mount::Mount> read_only_mounts(std::span<const mount::Mount> mounts) {
    std::vector<mount::Mount> out;
    for (const auto& m : mounts) {
        mount::Mount r = m;
        if (m.type == "overlay") {
            std::string upperdir = mount::option_value(m, "upperdir");
            if (!upperdir.empty()) {
                std::string lowers = upperdir;
                for (const auto& l : mount::lowerdirs(m))
                    lowers += ":" + l;
                r.options.clear();
                for (const auto& o : m.options) {
                    if (o.starts_with("upperdir=") || o.starts_with("workdir=") ||
                        o.starts_with("lowerdir=") || o == "rw")
                        continue;
                    r.options.push_back(o);
                }
                r.options.push_back("lowerdir=" + lowers);
            }
        }
        std::erase(r.options, std::string("rw"));
        if (!mount::is_read_only(r)) r.options.push_back("ro");
        out.push_back(std::move(r));
    }
    return out;
}

WalkingDiffer::WalkingDiffer(std::shared_ptr<content::Store> store, std::filesystem::path state)
    : store_(std::move(store)), state_(std::move(state)) {}

Result<Descriptor> WalkingDiffer::apply(std::string_view ns, const Descriptor& layer,
                                        std::span<const mount::Mount> mounts) {
    GANTRY_ASSIGN_OR_RETURN(std::optional<Compression> compression,
                            archive::layer_compression(layer.media_type));
    if (mounts.empty()) return invalid_argument("no mounts to apply the layer onto");
    GANTRY_ASSIGN_OR_RETURN(auto reader, store_->reader(ns, layer.digest));
    auto raw = std::make_unique<archive::ReaderAtSource>(*reader);
    archive::LayerStreamOptions sopts;
    sopts.compression = compression;
    GANTRY_ASSIGN_OR_RETURN(auto stream, archive::LayerStream::open(std::move(raw), sopts));

    archive::ApplyOptions aopts;
    aopts.devices = archive::DeviceNodes::Create; // as containerd outside a user namespace
    std::optional<mount::TempMount> temp;
    std::filesystem::path root;
    if (writable_overlay(mounts)) {
        // Every layer after the first: straight into the upperdir, no mount (§8.6).
        root = mount::option_value(mounts[0], "upperdir");
        aopts.whiteouts = archive::WhiteoutMode::OverlayUpper;
        for (const auto& l : mount::lowerdirs(mounts[0]))
            aopts.lower_dirs.emplace_back(l);
    } else {
        std::error_code ec;
        std::filesystem::create_directories(state_, ec);
        GANTRY_ASSIGN_OR_RETURN(auto tm, mount::TempMount::create(mounts, state_));
        temp.emplace(std::move(tm));
        root = temp->path();
        aopts.whiteouts = archive::WhiteoutMode::Remove;
    }

    auto applied = archive::apply_layer(*stream, root, aopts);
    if (!applied.ok()) {
        stream->cancel();
        return std::move(applied).error().wrap("apply layer " + layer.digest);
    }
    if (temp) GANTRY_TRY(temp->release());
    Descriptor out;
    out.media_type = std::string(kMediaTypeLayer);
    out.digest = stream->digest();
    out.size = stream->size();
    return out;
}

Result<Descriptor> WalkingDiffer::compare(std::string_view ns, std::string_view lease,
                                          std::span<const mount::Mount> lower,
                                          std::span<const mount::Mount> upper,
                                          const CompareOptions& options) {
    std::string media_type =
        options.media_type.empty() ? std::string(kMediaTypeLayerGzip) : options.media_type;
    GANTRY_ASSIGN_OR_RETURN(Compression compression, compare_compression(media_type));
    if (upper.empty()) return invalid_argument("no upper mounts to diff");

    std::error_code ec;
    std::filesystem::create_directories(state_, ec);
    auto lower_ro = read_only_mounts(lower);
    GANTRY_ASSIGN_OR_RETURN(auto lower_mnt, mount::TempMount::create(lower_ro, state_));
    std::string upperdir = overlay_upperdir(lower, upper);

    bool new_ref = options.ref.empty();
    std::string ref = new_ref ? unique_ref() : options.ref;
    GANTRY_ASSIGN_OR_RETURN(auto writer, store_->writer(ns, lease, ref, 0, ""));
    // A failure before the commit drops the ingest we started (a caller-named one is left for
    // the caller to resume or abort, as containerd does).
    auto abandon = [&](Error e) -> Error {
        writer.reset();
        if (new_ref) {
            if (auto s = store_->abort(ns, ref, lease); !s.ok())
                log::warn("diff: cannot abort ingest {}: {}", ref, s.error().message());
        }
        return e;
    };
    if (!new_ref) {
        if (auto s = writer->truncate(0); !s.ok()) return abandon(std::move(s).error());
    }

    std::optional<Result<DiffResult>> result;
    if (!upperdir.empty()) {
        result = stream_diff(*writer, compression, [&](const archive::ByteSink& sink) {
            return archive::write_overlay_diff(lower_mnt.path(), upperdir, sink);
        });
        if (!result->ok() && result->error().is(Errc::FailedPrecondition)) {
            log::debug("diff: overlay fast path not usable ({}); walking mounted trees",
                       result->error().message());
            if (auto s = writer->truncate(0); !s.ok()) return abandon(std::move(s).error());
            result.reset();
        }
    }
    if (!result) {
        auto upper_ro = read_only_mounts(upper);
        auto upper_mnt = mount::TempMount::create(upper_ro, state_);
        if (!upper_mnt.ok()) return abandon(std::move(upper_mnt).error());
        result = stream_diff(*writer, compression, [&](const archive::ByteSink& sink) {
            return archive::write_diff(lower_mnt.path(), upper_mnt->path(), sink);
        });
        if (result->ok()) {
            if (auto s = upper_mnt->release(); !s.ok()) return abandon(std::move(s).error());
        }
    }
    if (!result->ok()) return abandon(std::move(*result).error().wrap("write diff"));
    DiffResult diff = std::move(*result).value();

    content::Labels labels = options.labels;
    labels[std::string(kUncompressedLabel)] = diff.diff_id;
    std::string digest = writer->digest();
    if (auto s = writer->commit(0, digest, labels); !s.ok() && !s.error().is(Errc::AlreadyExists))
        return abandon(std::move(s).error().wrap("failed to commit"));
    writer.reset();
    if (auto s = lower_mnt.release(); !s.ok())
        log::warn("diff: cannot release lower mount: {}", s.error().message());

    GANTRY_ASSIGN_OR_RETURN(content::Info info, store_->info(ns, digest));
    // The blob may have existed already without the label.
    if (!info.labels.contains(std::string(kUncompressedLabel))) {
        info.labels[std::string(kUncompressedLabel)] = diff.diff_id;
        std::vector<std::string> paths{"labels." + std::string(kUncompressedLabel)};
        GANTRY_TRY(store_->update(ns, info, paths));
    }
    Descriptor out;
    out.media_type = media_type;
    out.digest = digest;
    out.size = info.size;
    return out;
}

} // namespace gantry::diff
