// gantryd's configuration file: containerd-like keys and defaults, TOML.
#pragma once

#include "core/errors.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
}
} // namespace toml

namespace gantry::config {

inline constexpr std::string_view kDefaultConfigPath = "/etc/gantry/config.toml";
inline constexpr std::string_view kDefaultRoot = "/var/lib/gantry";
inline constexpr std::string_view kDefaultState = "/run/gantry";
inline constexpr std::string_view kDefaultAddress = "/run/gantry/gantryd.sock";

struct GrpcConfig {
    std::string address{kDefaultAddress};
    std::int64_t uid = 0;
    std::int64_t gid = 0;
    // containerd's defaults: 16 MiB each way.
    std::int64_t max_recv_message_size = 16 << 20;
    std::int64_t max_send_message_size = 16 << 20;
};

struct Config {
    std::int64_t version = 2;
    std::string root{kDefaultRoot};
    std::string state{kDefaultState};
    std::string plugin_dir; // empty: the installed dir, or the build dir when run from a build
    std::vector<std::string> disabled_plugins;
    GrpcConfig grpc;
    std::string metrics_address; // empty: no metrics endpoint
    std::string log_level = "info";
    std::string log_format = "text";

    // The file this config came from ("" for built-in defaults), and its [plugins] table, kept
    // raw: each plugin reads its own section once the plugins are known.
    std::string source_file;
    std::shared_ptr<const toml::table> plugins;
};

// Parses TOML text. `file` names the source in error messages.
Result<Config> parse_config(std::string_view text, std::string file);
// Reads `path`. A missing file at the default path yields the defaults; a missing file given
// explicitly is an error.
Result<Config> load_config(const std::string& path, bool explicitly_given);

// The top-level keys as TOML (without the [plugins] table), for `config default|dump`.
std::string render_top_level(const Config& cfg);

} // namespace gantry::config
