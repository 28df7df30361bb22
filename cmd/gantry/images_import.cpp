// gantry images import: reads an OCI image layout tar or a `docker save` tar and stores it
// through the Content, Images and Leases services, the way `ctr images import` does (§11.2):
//   1. Leases.Create (random id, containerd.io/gc.expire = now + 24 h); every later call carries
//      the `containerd-lease` header, so nothing written is collected before the images exist.
//   2. Every regular file of the tar except manifest.json and oci-layout: Content.Write with ref
//      "tar-<path>", STAT, WRITE (<= 1 MiB chunks), COMMIT.
//   3. OCI layout: index.json is the index. docker save: one Docker schema 2 manifest per entry of
//      manifest.json, and an OCI index naming each image, are written the same way.
//   4. The index and manifests get their gc.ref labels (Content.Update, one mask path a label).
//   5. Images.Update (mask "target"), Images.Create on NotFound.
//   6. Unless --no-unpack: each image's layers are unpacked into the snapshotter (unpack.hpp),
//      still under the lease, so a failed unpack leaves nothing the lease does not hold.
//   7. Leases.Delete.
#include "cmd/gantry/images_import.hpp"

#include "cmd/gantry/client.hpp"
#include "cmd/gantry/oci.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/unpack.hpp"
#include "services/content/v1/content.grpc.pb.h"
#include "services/images/v1/images.grpc.pb.h"
#include "services/leases/v1/leases.grpc.pb.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <optional>
#include <random>
#include <set>
#include <sys/utsname.h>
#include <vector>

namespace gantry::cli {
namespace {

namespace content_v1 = containerd::services::content::v1;
namespace images_v1 = containerd::services::images::v1;
namespace leases_v1 = containerd::services::leases::v1;
using json = nlohmann::json;

constexpr std::size_t kChunk = 1 << 20;
using oci::Descriptor;
using oci::descriptor_from;
using oci::host_arch;
using oci::is_index;
using oci::is_manifest;
using oci::kDockerConfig;
using oci::kDockerManifest;
using oci::kOciIndex;
using oci::platform_matches;
using oci::Sha256;
using oci::sha256;
constexpr std::string_view kRefPrefix = oci::kContentRefPrefix;

// ---- the archive ----

struct TarEntry {
    std::string path;
    std::uint64_t offset = 0; // of the data in the file
    std::uint64_t size = 0;
};

std::uint64_t octal(const char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n && p[i] != '\0' && p[i] != ' '; ++i) {
        if (p[i] < '0' || p[i] > '7') break;
        v = v * 8 + static_cast<std::uint64_t>(p[i] - '0');
    }
    return v;
}

// The header checksum: the sum of its bytes with the checksum field read as spaces.
bool checksum_ok(const char* h) {
    std::uint64_t sum = 0;
    for (int i = 0; i < 512; ++i)
        sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    return sum == octal(h + 148, 8);
}

std::string clean_path(std::string p) {
    while (p.starts_with("./"))
        p.erase(0, 2);
    while (p.starts_with("/"))
        p.erase(0, 1);
    return p;
}

// The regular files of an uncompressed tar (ustar, GNU long names, pax paths), in tar order.
Result<std::vector<TarEntry>> index_tar(std::ifstream& in, const std::string& file) {
    std::vector<TarEntry> out;
    std::uint64_t pos = 0;
    std::optional<std::string> next_name;
    char h[512];
    for (;;) {
        in.seekg(static_cast<std::streamoff>(pos));
        if (!in.read(h, sizeof h)) {
            if (pos == 0) return invalid_argument(file + ": not a tar archive");
            break; // end without the two zero blocks: accept, like Go's archive/tar at EOF
        }
        if (std::all_of(h, h + 512, [](char c) { return c == 0; })) break;
        if (pos == 0 && static_cast<unsigned char>(h[0]) == 0x1f &&
            static_cast<unsigned char>(h[1]) == 0x8b)
            return invalid_argument(file +
                                    ": compressed archives are not supported; gunzip it first");
        if (!checksum_ok(h)) {
            if (pos == 0) return invalid_argument(file + ": not a tar archive");
            return invalid_argument(file + ": corrupt tar header at offset " + std::to_string(pos));
        }
        const std::uint64_t size = octal(h + 124, 12);
        const char type = h[156];
        const std::uint64_t data = pos + 512;
        pos = data + (size + 511) / 512 * 512;
        auto read_data = [&]() -> std::string {
            std::string s(size, '\0');
            in.seekg(static_cast<std::streamoff>(data));
            in.read(s.data(), static_cast<std::streamsize>(size));
            return s;
        };
        if (type == 'L') { // GNU long name
            std::string s = read_data();
            next_name = s.substr(0, s.find('\0'));
            continue;
        }
        if (type == 'x') { // pax extended header: "<len> key=value\n" records
            const std::string s = read_data();
            std::size_t i = 0;
            while (i < s.size()) {
                const std::size_t sp = s.find(' ', i);
                if (sp == std::string::npos) break;
                const std::size_t len = std::stoul(s.substr(i, sp - i));
                const std::string rec = s.substr(sp + 1, len - (sp - i) - 2);
                if (rec.starts_with("path=")) next_name = rec.substr(5);
                i += len;
            }
            continue;
        }
        if (type == 'g') continue;
        std::string name;
        if (next_name) {
            name = *next_name;
        } else {
            name.assign(h, strnlen(h, 100));
            if (std::string_view(h + 257, 5) == "ustar" && h[345] != '\0')
                name = std::string(h + 345, strnlen(h + 345, 155)) + "/" + name;
        }
        next_name.reset();
        if (type == '0' || type == '\0' || type == '7')
            out.push_back({clean_path(name), data, size});
    }
    if (!in.eof() && in.fail() && out.empty()) return invalid_argument(file + ": cannot read");
    return out;
}

class Archive {
public:
    static Result<Archive> open(const std::string& file) {
        Archive a;
        a.file_ = file;
        a.in_ = std::make_unique<std::ifstream>(file, std::ios::binary);
        if (!*a.in_) return from_errno(errno, "open " + file);
        GANTRY_ASSIGN_OR_RETURN(a.entries_, index_tar(*a.in_, file));
        for (std::size_t i = 0; i < a.entries_.size(); ++i)
            a.by_path_[a.entries_[i].path] = i;
        return a;
    }
    const std::vector<TarEntry>& entries() const { return entries_; }
    const TarEntry* find(const std::string& path) const {
        auto it = by_path_.find(path);
        return it == by_path_.end() ? nullptr : &entries_[it->second];
    }
    Result<std::string> read(const TarEntry& e, std::uint64_t from = 0,
                             std::uint64_t max = UINT64_MAX) {
        const std::uint64_t n = std::min(max, e.size - std::min(from, e.size));
        std::string s(n, '\0');
        in_->clear();
        in_->seekg(static_cast<std::streamoff>(e.offset + from));
        if (!in_->read(s.data(), static_cast<std::streamsize>(n)))
            return invalid_argument(file_ + ": truncated archive at " + e.path);
        return s;
    }

private:
    std::string file_;
    std::unique_ptr<std::ifstream> in_;
    std::vector<TarEntry> entries_;
    std::map<std::string, std::size_t> by_path_;
};

// ---- talking to gantryd ----

class Importer {
public:
    Importer(const Client& client, Archive& archive)
        : client_(client), archive_(archive),
          content_(content_v1::Content::NewStub(client.channel())),
          images_(images_v1::Images::NewStub(client.channel())),
          leases_(leases_v1::Leases::NewStub(client.channel())) {}

    template <typename Rpc>
    Status call(Rpc&& rpc) {
        grpc::ClientContext ctx;
        prepare(ctx);
        return client_.check(std::forward<Rpc>(rpc)(&ctx));
    }

    void prepare(grpc::ClientContext& ctx) {
        client_.prepare(ctx);
        if (!lease_.empty()) ctx.AddMetadata("containerd-lease", lease_);
    }

    Status create_lease() {
        leases_v1::CreateRequest req;
        req.set_id(random_id());
        (*req.mutable_labels())["containerd.io/gc.expire"] =
            utc_rfc3339(std::chrono::system_clock::now() + std::chrono::hours(24));
        leases_v1::CreateResponse resp;
        GANTRY_TRY(call([&](grpc::ClientContext* c) { return leases_->Create(c, req, &resp); }));
        lease_ = resp.lease().id();
        return ok_status();
    }

    Status delete_lease() {
        if (lease_.empty()) return ok_status();
        leases_v1::DeleteRequest req;
        req.set_id(lease_);
        google::protobuf::Empty resp;
        auto st = call([&](grpc::ClientContext* c) { return leases_->Delete(c, req, &resp); });
        lease_.clear();
        return st;
    }

    // Writes bytes from `next_chunk` (called with the offset to continue from) under `ref`.
    // Returns the digest the server committed (or, when the blob was already there, ours).
    template <typename ChunkFn>
    Status write(const std::string& ref, std::int64_t total, const std::string& digest,
                 ChunkFn&& next_chunk) {
        grpc::ClientContext ctx;
        prepare(ctx);
        auto stream = content_->Write(&ctx);
        content_v1::WriteContentRequest req;
        content_v1::WriteContentResponse resp;
        auto finish = [&](Status own) -> Status {
            stream->WritesDone();
            auto st = client_.check(stream->Finish());
            if (!st.ok()) {
                if (st.error().is(Errc::AlreadyExists)) return ok_status();
                return std::move(st).error().wrap("write " + ref);
            }
            return own;
        };
        req.set_action(content_v1::STAT);
        req.set_ref(ref);
        req.set_total(total);
        if (!stream->Write(req) || !stream->Read(&resp)) return finish(ok_status());
        std::int64_t offset = resp.offset();
        if (offset > total) offset = 0;
        while (offset < total) {
            GANTRY_ASSIGN_OR_RETURN(std::string data, next_chunk(offset));
            if (data.empty()) return finish(invalid_argument("short read of " + ref));
            req.Clear();
            req.set_action(content_v1::WRITE);
            req.set_ref(ref);
            req.set_offset(offset);
            req.set_data(data);
            if (!stream->Write(req) || !stream->Read(&resp)) return finish(ok_status());
            offset += static_cast<std::int64_t>(data.size());
        }
        req.Clear();
        req.set_action(content_v1::COMMIT);
        req.set_ref(ref);
        req.set_total(total);
        req.set_offset(offset); // offset 0 would mean "truncate and start again"
        if (!stream->Write(req) || !stream->Read(&resp)) return finish(ok_status());
        if (!resp.digest().empty() && resp.digest() != digest)
            return finish(internal_error("server committed " + resp.digest() + " for " + ref +
                                         ", expected " + digest));
        return finish(ok_status());
    }

    Status write_entry(const TarEntry& e, std::string& digest) {
        Sha256 h;
        for (std::uint64_t off = 0; off < e.size; off += kChunk) {
            GANTRY_ASSIGN_OR_RETURN(std::string chunk, archive_.read(e, off, kChunk));
            h.update(chunk);
        }
        digest = h.digest();
        return write("tar-" + e.path, static_cast<std::int64_t>(e.size), digest,
                     [&](std::int64_t off) {
                         return archive_.read(e, static_cast<std::uint64_t>(off), kChunk);
                     });
    }

    Status write_bytes(const std::string& ref, const std::string& bytes) {
        return write(ref, static_cast<std::int64_t>(bytes.size()), sha256(bytes),
                     [&](std::int64_t off) -> Result<std::string> {
                         return bytes.substr(static_cast<std::size_t>(off), kChunk);
                     });
    }

    Status set_labels(const std::string& digest, const std::map<std::string, std::string>& labels) {
        if (labels.empty()) return ok_status();
        content_v1::UpdateRequest req;
        req.mutable_info()->set_digest(digest);
        for (const auto& [k, v] : labels) {
            (*req.mutable_info()->mutable_labels())[k] = v;
            req.mutable_update_mask()->add_paths("labels." + k);
        }
        content_v1::UpdateResponse resp;
        return call([&](grpc::ClientContext* c) { return content_->Update(c, req, &resp); });
    }

    Status put_image(const std::string& name, const Descriptor& target) {
        images_v1::Image image;
        image.set_name(name);
        image.mutable_target()->set_media_type(target.media_type);
        image.mutable_target()->set_digest(target.digest);
        image.mutable_target()->set_size(target.size);
        image.mutable_target()->mutable_annotations()->insert(target.annotations.begin(),
                                                              target.annotations.end());
        images_v1::UpdateImageRequest up;
        *up.mutable_image() = image;
        up.mutable_update_mask()->add_paths("target");
        images_v1::UpdateImageResponse up_resp;
        auto st = call([&](grpc::ClientContext* c) { return images_->Update(c, up, &up_resp); });
        if (st.ok() || !st.error().is(Errc::NotFound)) return st;
        images_v1::CreateImageRequest cr;
        *cr.mutable_image() = image;
        images_v1::CreateImageResponse cr_resp;
        return call([&](grpc::ClientContext* c) { return images_->Create(c, cr, &cr_resp); });
    }

    static std::string random_id() {
        static constexpr char kB64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() %
                        1000000000;
        std::random_device rd;
        const std::uint32_t b = rd() & 0xFFFFFF;
        std::string id = std::to_string(ns) + "-";
        for (int s = 18; s >= 0; s -= 6)
            id.push_back(kB64[(b >> s) & 0x3F]);
        return id;
    }

    static std::string utc_rfc3339(std::chrono::system_clock::time_point t) {
        const std::time_t tt = std::chrono::system_clock::to_time_t(t);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
    }

    const Client& client() const { return client_; }
    const std::string& lease() const { return lease_; }

private:
    const Client& client_;
    Archive& archive_;
    std::unique_ptr<content_v1::Content::Stub> content_;
    std::unique_ptr<images_v1::Images::Stub> images_;
    std::unique_ptr<leases_v1::Leases::Stub> leases_;
    std::string lease_;
};

// ---- options and the walk ----

struct ImportOptions {
    std::string file;
    bool no_unpack = false;
    std::string base_name;
    bool digests = false;
    std::string index_name;
    bool all_platforms = false;
    std::string snapshotter;
};

// ctr's reference translators for org.opencontainers.image.ref.name.
std::string translate_ref(const std::string& ref, const std::string& base, bool filter) {
    if (ref.find_first_of("/:@") != std::string::npos) {
        if (!filter) return ref;
        if (!ref.starts_with(base)) return "";
        if (ref.size() > base.size() &&
            std::string_view("/:@").find(ref[base.size()]) == std::string_view::npos)
            return "";
        return ref;
    }
    return base + ":" + ref;
}

// Docker's normalisation of "busybox:latest" to "docker.io/library/busybox:latest".
std::string normalize_docker_name(std::string name) {
    const auto slash = name.find('/');
    const std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
    const bool has_domain =
        slash != std::string::npos &&
        (first.find_first_of(".:") != std::string::npos || first == "localhost");
    if (!has_domain) {
        if (slash == std::string::npos) name = "library/" + name;
        name = "docker.io/" + name;
    }
    const auto last_slash = name.rfind('/');
    if (name.find(':', last_slash) == std::string::npos && name.find('@') == std::string::npos)
        name += ":latest";
    return name;
}

class Walker {
public:
    Walker(Importer& imp, std::map<std::string, std::string>& json_blobs)
        : imp_(imp), blobs_(json_blobs) {}

    // Sets gc.ref labels from `d` down, as containerd's SetChildrenLabels does.
    Status walk(const Descriptor& d, bool all_platforms) {
        if (!is_index(d.media_type) && !is_manifest(d.media_type)) return ok_status();
        auto it = blobs_.find(d.digest);
        if (it == blobs_.end()) return not_found("content digest " + d.digest + ": not found");
        json j;
        try {
            j = json::parse(it->second);
        } catch (const std::exception& e) {
            return invalid_argument(d.digest + ": " + e.what());
        }
        std::map<std::string, std::string> labels;
        if (is_index(d.media_type)) {
            int n = 0;
            for (const auto& m : j.value("manifests", json::array())) {
                Descriptor child = descriptor_from(m);
                if (!all_platforms && !platform_matches(child)) continue;
                labels[std::string(kRefPrefix) + ".m." + std::to_string(n++)] = child.digest;
                GANTRY_TRY(walk(child, all_platforms));
            }
        } else {
            if (j.contains("config"))
                labels[std::string(kRefPrefix) + ".config"] = descriptor_from(j["config"]).digest;
            int n = 0;
            for (const auto& l : j.value("layers", json::array()))
                labels[std::string(kRefPrefix) + ".l." + std::to_string(n++)] =
                    descriptor_from(l).digest;
        }
        return imp_.set_labels(d.digest, labels);
    }

private:
    Importer& imp_;
    std::map<std::string, std::string>& blobs_;
};

bool looks_like_json_blob(const TarEntry& e) {
    return e.size < (4u << 20);
}

// docker save: builds a schema 2 manifest per image and an OCI index naming them.
Result<Descriptor> docker_index(Importer& imp, Archive& archive,
                                const std::map<std::string, std::string>& digest_of,
                                std::map<std::string, std::string>& json_blobs) {
    const TarEntry* mf = archive.find("manifest.json");
    GANTRY_ASSIGN_OR_RETURN(std::string text, archive.read(*mf));
    json entries;
    try {
        entries = json::parse(text);
    } catch (const std::exception& e) {
        return invalid_argument("manifest.json: " + std::string(e.what()));
    }
    if (!entries.is_array()) return invalid_argument("manifest.json: not a list");
    json index = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", json::array()}};
    for (const auto& entry : entries) {
        const std::string config_path = entry.value("Config", "");
        const TarEntry* cfg = archive.find(clean_path(config_path));
        if (cfg == nullptr) return invalid_argument("manifest.json names missing " + config_path);
        json manifest = {{"schemaVersion", 2},
                         {"mediaType", kDockerManifest},
                         {"config",
                          {{"mediaType", kDockerConfig},
                           {"digest", digest_of.at(cfg->path)},
                           {"size", cfg->size}}},
                         {"layers", json::array()}};
        for (const auto& lp : entry.value("Layers", json::array())) {
            const TarEntry* layer = archive.find(clean_path(lp.get<std::string>()));
            if (layer == nullptr)
                return invalid_argument("manifest.json names missing layer " +
                                        lp.get<std::string>());
            GANTRY_ASSIGN_OR_RETURN(std::string head, archive.read(*layer, 0, 4));
            std::string mt = "application/vnd.docker.image.rootfs.diff.tar";
            if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
                static_cast<unsigned char>(head[1]) == 0x8b)
                mt += ".gzip";
            else if (head == std::string("\x28\xb5\x2f\xfd", 4))
                mt += ".zstd";
            manifest["layers"].push_back(
                {{"mediaType", mt}, {"digest", digest_of.at(layer->path)}, {"size", layer->size}});
        }
        const std::string bytes = manifest.dump();
        const std::string digest = sha256(bytes);
        GANTRY_TRY(imp.write_bytes("manifest-" + digest, bytes));
        json_blobs[digest] = bytes;
        json platform = {{"architecture", host_arch()}, {"os", "linux"}};
        GANTRY_ASSIGN_OR_RETURN(std::string cfg_text, archive.read(*cfg));
        try {
            json c = json::parse(cfg_text);
            platform = {{"architecture", c.value("architecture", host_arch())},
                        {"os", c.value("os", "linux")}};
        } catch (const std::exception&) {
        }
        auto tags = entry.value("RepoTags", json::array());
        if (tags.empty()) tags.push_back(nullptr);
        for (const auto& tag : tags) {
            json desc = {{"mediaType", kDockerManifest},
                         {"digest", digest},
                         {"size", bytes.size()},
                         {"platform", platform}};
            if (tag.is_string()) {
                const std::string name = normalize_docker_name(tag.get<std::string>());
                desc["annotations"] = {
                    {"io.containerd.image.name", name},
                    {"org.opencontainers.image.ref.name", name.substr(name.rfind(':') + 1)}};
            }
            index["manifests"].push_back(desc);
        }
    }
    const std::string bytes = index.dump();
    Descriptor d{
        std::string(kOciIndex), sha256(bytes), static_cast<std::int64_t>(bytes.size()), {}, {}};
    GANTRY_TRY(imp.write_bytes("index-" + d.digest, bytes));
    json_blobs[d.digest] = bytes;
    return d;
}

std::string today() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

Status run_import(Importer& imp, Archive& archive, const ImportOptions& o) {
    const bool docker =
        archive.find("manifest.json") != nullptr && archive.find("index.json") == nullptr;
    std::map<std::string, std::string> digest_of;  // tar path -> digest
    std::map<std::string, std::string> json_blobs; // digest -> bytes, for small blobs
    for (const auto& e : archive.entries()) {
        if (e.path == "manifest.json" || e.path == "oci-layout") continue;
        std::string digest;
        GANTRY_TRY(imp.write_entry(e, digest));
        digest_of[e.path] = digest;
        if (looks_like_json_blob(e)) {
            GANTRY_ASSIGN_OR_RETURN(json_blobs[digest], archive.read(e));
        }
    }
    Descriptor index;
    if (docker) {
        GANTRY_ASSIGN_OR_RETURN(index, docker_index(imp, archive, digest_of, json_blobs));
    } else {
        const TarEntry* ij = archive.find("index.json");
        if (ij == nullptr)
            return invalid_argument(o.file + ": neither an OCI layout (index.json) nor a docker "
                                             "save archive (manifest.json)");
        index = {std::string(kOciIndex),
                 digest_of.at("index.json"),
                 static_cast<std::int64_t>(ij->size),
                 {},
                 {}};
    }
    Walker walker(imp, json_blobs);
    GANTRY_TRY(walker.walk(index, o.all_platforms));

    // The images, as ctr names them.
    const std::string prefix = o.base_name.empty() ? "import-" + today() : o.base_name;
    std::vector<std::pair<std::string, Descriptor>> images;
    if (!o.index_name.empty()) images.emplace_back(o.index_name, index);
    json idx = json::parse(json_blobs.at(index.digest));
    for (const auto& m : idx.value("manifests", json::array())) {
        Descriptor d = descriptor_from(m);
        if (!o.all_platforms && !platform_matches(d)) continue;
        std::string name;
        if (auto it = d.annotations.find("io.containerd.image.name"); it != d.annotations.end())
            name = it->second;
        else if (auto ref = d.annotations.find("org.opencontainers.image.ref.name");
                 ref != d.annotations.end())
            name = translate_ref(ref->second, prefix, !o.base_name.empty());
        if (!name.empty()) images.emplace_back(name, d);
        if (o.digests) images.emplace_back(prefix + "@" + d.digest, d);
    }
    for (const auto& [name, target] : images) {
        auto st = imp.put_image(name, target);
        if (!st.ok()) return std::move(st).error().wrap("image " + name);
        if (o.no_unpack) std::cout << name << "\n";
    }
    std::cout << std::flush;
    if (images.empty()) std::cerr << "gantry: the archive names no image; use --index-name\n";
    if (o.no_unpack) return ok_status();
    GANTRY_ASSIGN_OR_RETURN(const std::string sn, choose_snapshotter(imp.client(), o.snapshotter));
    std::set<std::string> done; // one unpack per manifest, however many names it has
    for (const auto& [name, target] : images) {
        std::cout << "unpacking " << name << " (" << target.digest << ")..." << std::flush;
        if (done.insert(target.digest).second) {
            auto rootfs = resolve_rootfs(imp.client(), target);
            if (!rootfs.ok()) return std::move(rootfs).error().wrap("unpack " + name);
            auto st = unpack(imp.client(), imp.lease(), sn, *rootfs);
            if (!st.ok()) return std::move(st).error().wrap("unpack " + name);
        }
        std::cout << "done\n" << std::flush;
    }
    return ok_status();
}

int import_images(const Globals& g, const ImportOptions& o) {
    auto archive = Archive::open(o.file);
    if (!archive.ok()) return print_error(archive.error());
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    Importer imp(*client, *archive);
    if (auto st = imp.create_lease(); !st.ok()) return print_error(st.error().wrap("create lease"));
    auto st = run_import(imp, *archive, o);
    auto released = imp.delete_lease();
    if (!st.ok()) return print_error(st.error());
    if (!released.ok()) return print_error(released.error().wrap("delete lease"));
    return 0;
}

} // namespace

void register_images_import(CLI::App& images_group, Globals& g) {
    auto o = std::make_shared<ImportOptions>();
    auto* cmd = images_group.add_subcommand(
        "import", "Import images from an OCI image layout tar or a `docker save` tar");
    cmd->add_option("file", o->file, "The archive (uncompressed tar)")
        ->required()
        ->type_name("FILE");
    cmd->add_flag("--no-unpack", o->no_unpack, "Store the image without unpacking its layers");
    cmd->add_option("--snapshotter", o->snapshotter,
                    "Snapshotter to unpack into (default: the namespace's "
                    "containerd.io/defaults/snapshotter label, else overlayfs)")
        ->envname("CONTAINERD_SNAPSHOTTER")
        ->type_name("NAME");
    cmd->add_option("--base-name", o->base_name,
                    "Base name for images named only by a tag in the archive; when given, only "
                    "images with this name prefix are imported")
        ->type_name("NAME");
    cmd->add_flag("--digests", o->digests, "Also create images named <base-name>@<digest>");
    cmd->add_option("--index-name", o->index_name,
                    "Also keep the archive's index as an image of this name")
        ->type_name("NAME");
    cmd->add_flag("--all-platforms", o->all_platforms,
                  "Import the content of every platform, not only this machine's");
    set_action(*cmd, g, [&g, o] { return import_images(g, *o); });
}

} // namespace gantry::cli
