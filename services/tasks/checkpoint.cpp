#include "services/tasks/checkpoint.hpp"

#include "core/archive/apply.hpp"
#include "core/archive/decompress.hpp"
#include "core/archive/diff.hpp"
#include "core/content/store.hpp"
#include "core/fs/atomic_file.hpp"
#include "runtime/runc/options.pb.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <memory>

namespace gantry::services::checkpoint {
namespace {

namespace fsys = std::filesystem;

// The last part of a type URL: "types.containerd.io/x.y.Z" and "x.y.Z" name the same type.
std::string_view type_name(std::string_view url) {
    const auto slash = url.rfind('/');
    return slash == std::string_view::npos ? url : url.substr(slash + 1);
}

bool contains_nocase(std::string_view hay, std::string_view needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
           }) != hay.end();
}

// A CRIU log path quoted by a runc-style shim: "path= <file>" (containerd-shim-runc-v2) or
// "log file: <file>" (runc's own words).
std::string quoted_log_path(std::string_view msg) {
    for (std::string_view marker : {"path= ", "log file: "}) {
        const auto at = msg.find(marker);
        if (at == std::string_view::npos) continue;
        std::string_view rest = msg.substr(at + marker.size());
        const auto end = rest.find_first_of(" \t\r\n)");
        std::string p(rest.substr(0, end));
        if (!p.empty() && p.front() == '/') return p;
    }
    return {};
}

// Appends the content writer's bytes in large pieces: the diff walk hands over many small ones.
class BufferedWriter {
public:
    explicit BufferedWriter(content::Writer& w) : w_(w) { buf_.reserve(kChunk); }
    Status write(std::string_view data) {
        size_ += static_cast<std::int64_t>(data.size());
        if (buf_.size() + data.size() < kChunk) {
            buf_.append(data);
            return ok_status();
        }
        GANTRY_TRY(flush());
        if (data.size() >= kChunk) return w_.write(data);
        buf_.append(data);
        return ok_status();
    }
    Status flush() {
        if (buf_.empty()) return ok_status();
        GANTRY_TRY(w_.write(buf_));
        buf_.clear();
        return ok_status();
    }
    std::int64_t size() const { return size_; }

private:
    static constexpr std::size_t kChunk = 1 << 20;
    content::Writer& w_;
    std::string buf_;
    std::int64_t size_ = 0;
};

// Commits what `fill` writes as one blob.
template <typename Fill>
Result<Blob> write_blob(content::Store& store, std::string_view ns, std::string_view lease,
                        std::string_view ref, std::string_view media_type, Fill fill) {
    GANTRY_ASSIGN_OR_RETURN(auto w, store.writer(ns, lease, ref, 0, ""));
    BufferedWriter out(*w);
    GANTRY_TRY(fill(out));
    GANTRY_TRY(out.flush());
    Blob b{std::string(media_type), w->digest(), out.size()};
    // The same bytes already stored (an identical checkpoint) are as good as new ones.
    if (auto st = w->commit(out.size(), "", {}); !st.ok() && !st.error().is(Errc::AlreadyExists))
        return std::move(st).error().wrap("commit " + std::string(media_type));
    return b;
}

} // namespace

Result<TempDir> TempDir::make(const fsys::path& base, std::string_view prefix) {
    GANTRY_TRY(fs::mkdir_all(base.string(), 0700));
    std::string tmpl = (base / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) return from_errno(errno, "mkdtemp " + tmpl);
    return TempDir(fsys::path(tmpl));
}

TempDir::~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fsys::remove_all(path_, ec);
}

Result<std::string> requested_image_path(std::string_view type_url, std::string_view value) {
    if (type_name(type_url) != "containerd.runc.v1.CheckpointOptions") return std::string();
    containerd::runc::v1::CheckpointOptions o;
    if (!o.ParseFromArray(value.data(), static_cast<int>(value.size())))
        return invalid_argument("malformed containerd.runc.v1.CheckpointOptions");
    return o.image_path();
}

Result<std::string> requested_restore_path(std::string_view type_url, std::string_view value) {
    if (type_name(type_url) != "containerd.runc.v1.Options") return std::string();
    containerd::runc::v1::Options o;
    if (!o.ParseFromArray(value.data(), static_cast<int>(value.size())))
        return invalid_argument("malformed containerd.runc.v1.Options");
    return o.criu_image_path();
}

Result<Blob> write_dir(content::Store& store, std::string_view ns, std::string_view lease,
                       std::string_view ref, std::string_view media_type, const fsys::path& dir) {
    return write_blob(store, ns, lease, ref, media_type, [&](BufferedWriter& out) {
        return archive::write_diff({}, dir, [&](std::string_view d) { return out.write(d); });
    });
}

Result<Blob> write_bytes(content::Store& store, std::string_view ns, std::string_view lease,
                         std::string_view ref, std::string_view media_type,
                         std::string_view bytes) {
    return write_blob(store, ns, lease, ref, media_type,
                      [&](BufferedWriter& out) { return out.write(bytes); });
}

Status unpack(content::Store& store, std::string_view ns, std::string_view digest,
              const fsys::path& dir) {
    auto ra = store.reader(ns, digest);
    if (!ra.ok()) return std::move(ra).error().wrap("checkpoint");
    archive::ReaderAtSource src(**ra);
    archive::ApplyOptions opts;
    opts.devices = archive::DeviceNodes::Refuse;
    auto applied = archive::apply_layer(src, dir, opts);
    if (!applied.ok())
        return std::move(applied).error().wrap("unpack checkpoint " + std::string(digest));
    return ok_status();
}

std::string criu_errors(std::string_view log, std::size_t max_lines) {
    std::string out;
    std::size_t found = 0;
    while (!log.empty() && found < max_lines) {
        const auto nl = log.find('\n');
        std::string_view line = log.substr(0, nl);
        log = nl == std::string_view::npos ? std::string_view{} : log.substr(nl + 1);
        // "(00.180499) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds"
        const auto e = line.find("Error (");
        if (e == std::string_view::npos) continue;
        std::string_view msg = line.substr(e);
        if (const auto close = msg.find("): "); close != std::string_view::npos)
            msg = msg.substr(close + 3);
        while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back())))
            msg.remove_suffix(1);
        if (msg.empty()) continue;
        if (!out.empty()) out += "; ";
        out += msg;
        ++found;
    }
    return out;
}

Error explain_failure(const Error& shim_error, std::string_view id) {
    const std::string& msg = shim_error.message();
    std::string out = "checkpoint task " + std::string(id) + ": ";
    if (contains_nocase(msg, "criu")) out += "CRIU failed: ";
    out += msg;
    // Gantry's shim quotes CRIU's errors itself ("CRIU: ..."); the runc shim only names its log.
    if (msg.find("CRIU: ") == std::string::npos) {
        if (const std::string log = quoted_log_path(msg); !log.empty()) {
            auto text = fs::read_file(log, std::size_t{64} << 20);
            if (text.ok()) {
                if (std::string errs = criu_errors(*text); !errs.empty()) out += ": CRIU: " + errs;
            }
        }
    }
    return Error(shim_error.code(), std::move(out));
}

} // namespace gantry::services::checkpoint
