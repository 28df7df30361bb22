// OCI and Docker image facts the CLI needs in more than one command (import, unpack, mount):
// media types, descriptors, platform matching, digests and chain IDs (protocol-facts §8.3, §8.5).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::cli::oci {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kContentRefPrefix = "containerd.io/gc.ref.content";
inline constexpr std::string_view kSnapshotRefPrefix = "containerd.io/gc.ref.snapshot.";
inline constexpr std::string_view kUncompressedLabel = "containerd.io/uncompressed";

struct Descriptor {
    std::string media_type;
    std::string digest;
    std::int64_t size = 0;
    std::map<std::string, std::string> annotations;
    std::optional<nlohmann::json> platform;
};

Descriptor descriptor_from(const nlohmann::json& j);

bool is_index(std::string_view media_type);
bool is_manifest(std::string_view media_type);
// OCI layer types (application/vnd.oci.image.layer.*) and Docker's four rootfs layer types.
bool is_layer(std::string_view media_type);

// GOARCH of this machine ("amd64", "arm64", ...).
std::string host_arch();
// A descriptor without a platform matches; otherwise os linux and this machine's architecture.
bool platform_matches(const Descriptor& d);

// "sha256:<hex>" of `data`.
std::string sha256(std::string_view data);

// An incremental sha256 ("sha256:<hex>" at the end).
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(std::string_view data);
    std::string digest();

private:
    void* ctx_;
};

// chain(L1) = diffID(L1); chain(L1..n) = sha256(chain(L1..n-1) + " " + diffID(Ln)). One entry per
// layer: the chain ID of the layers up to and including it.
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

} // namespace gantry::cli::oci
