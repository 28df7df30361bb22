#include "cmd/gantry/oci.hpp"

#include <cstdio>
#include <openssl/evp.h>
#include <sys/utsname.h>

namespace gantry::cli::oci {

Descriptor descriptor_from(const nlohmann::json& j) {
    Descriptor d;
    if (!j.is_object()) return d;
    d.media_type = j.value("mediaType", "");
    d.digest = j.value("digest", "");
    d.size = j.value("size", std::int64_t{0});
    if (j.contains("annotations") && j["annotations"].is_object())
        for (const auto& [k, v] : j["annotations"].items())
            if (v.is_string()) d.annotations[k] = v.get<std::string>();
    if (j.contains("platform")) d.platform = j["platform"];
    return d;
}

bool is_index(std::string_view mt) {
    return mt == kOciIndex || mt == kDockerList;
}

bool is_manifest(std::string_view mt) {
    return mt == kOciManifest || mt == kDockerManifest;
}

bool is_layer(std::string_view mt) {
    if (mt.starts_with("application/vnd.oci.image.layer.")) return true;
    return mt == "application/vnd.docker.image.rootfs.diff.tar" ||
           mt == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
           mt == "application/vnd.docker.image.rootfs.foreign.diff.tar" ||
           mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}

std::string host_arch() {
    utsname u{};
    uname(&u);
    const std::string m = u.machine;
    if (m == "x86_64") return "amd64";
    if (m == "aarch64") return "arm64";
    if (m.starts_with("arm")) return "arm";
    if (m == "i686" || m == "i386") return "386";
    return m;
}

bool platform_matches(const Descriptor& d) {
    if (!d.platform || !d.platform->is_object()) return true;
    return d.platform->value("os", "linux") == "linux" &&
           d.platform->value("architecture", host_arch()) == host_arch();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha256::update(std::string_view s) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), s.data(), s.size());
}

std::string Sha256::digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &n);
    std::string out = "sha256:";
    char hex[3];
    for (unsigned i = 0; i < n; ++i) {
        std::snprintf(hex, sizeof hex, "%02x", md[i]);
        out += hex;
    }
    return out;
}

std::string sha256(std::string_view s) {
    Sha256 h;
    h.update(s);
    return h.digest();
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
    std::vector<std::string> out;
    out.reserve(diff_ids.size());
    for (const auto& d : diff_ids)
        out.push_back(out.empty() ? d : sha256(out.back() + " " + d));
    return out;
}

} // namespace gantry::cli::oci
