// The daemon's half of checkpoint and restore, as containerd's tasks service does it
// (services/tasks/local.go): the shim (through the runtime's CLI and CRIU) dumps a task into a
// directory; the directory goes into the content store as a tar, beside the container's spec;
// restoring unpacks that tar into a directory again and hands it to the shim's Create.
//
// Checkpoint blobs (containerd 1.6 media types):
//   application/vnd.containerd.container.criu.checkpoint.criu.tar       the CRIU image dir, a tar
//   application/vnd.containerd.container.checkpoint.config.v1+proto    the spec, a protobuf Any
// Both are written under the request's lease with empty annotations; the client then writes the
// image index that references them (containerd's task.Checkpoint).
#pragma once

#include "core/errors.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gantry::content {
class Store;
}

namespace gantry::services::checkpoint {

inline constexpr std::string_view kCriuTarMediaType =
    "application/vnd.containerd.container.criu.checkpoint.criu.tar";
inline constexpr std::string_view kConfigMediaType =
    "application/vnd.containerd.container.checkpoint.config.v1+proto";

// A private directory (mkdtemp under `base`), removed with its contents when destroyed.
class TempDir {
public:
    static Result<TempDir> make(const std::filesystem::path& base, std::string_view prefix);
    TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
    TempDir& operator=(TempDir&&) = delete;
    TempDir(const TempDir&) = delete;
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }

private:
    explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
    std::filesystem::path path_;
};

struct Blob {
    std::string media_type;
    std::string digest;
    std::int64_t size = 0;
};

// containerd.runc.v1.CheckpointOptions.image_path when the Any is one (the client then keeps the
// images itself and nothing goes into the content store); empty otherwise. InvalidArgument for a
// CheckpointOptions that does not parse.
Result<std::string> requested_image_path(std::string_view type_url, std::string_view value);
// containerd.runc.v1.Options.criu_image_path of a Create's options: restore from that directory
// instead of a checkpoint descriptor.
Result<std::string> requested_restore_path(std::string_view type_url, std::string_view value);

// `dir` as an uncompressed tar (the same walk as a layer diff against nothing), committed as one
// blob of `media_type`.
Result<Blob> write_dir(content::Store& store, std::string_view ns, std::string_view lease,
                       std::string_view ref, std::string_view media_type,
                       const std::filesystem::path& dir);
Result<Blob> write_bytes(content::Store& store, std::string_view ns, std::string_view lease,
                         std::string_view ref, std::string_view media_type, std::string_view bytes);

// Extracts the checkpoint tar `digest` into `dir` with the safe layer applier: no entry can land
// outside `dir`, no device nodes. NotFound for a blob the namespace does not have.
Status unpack(content::Store& store, std::string_view ns, std::string_view digest,
              const std::filesystem::path& dir);

// The shim's error made readable: says that CRIU failed when it did, and adds CRIU's first error
// lines when the message names a CRIU log the shim kept (containerd-shim-runc-v2 ends its message
// with "path= <bundle>/criu-dump.log") and it does not quote them already. The code is kept.
Error explain_failure(const Error& shim_error, std::string_view id);
// The first `Error (...)` lines of a CRIU log without their source locations, joined by "; ".
std::string criu_errors(std::string_view log_text, std::size_t max_lines = 2);

} // namespace gantry::services::checkpoint
