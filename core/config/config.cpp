#include "core/config/config.hpp"

#include "core/config/section_reader.hpp"

#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace gantry::config {

namespace {

Status check_log_level(SectionReader& r, const std::string& level) {
    static const std::vector<std::string> kLevels{"trace", "debug", "info",
                                                  "warn",  "error", "fatal"};
    for (const auto& l : kLevels)
        if (l == level) return {};
    return r.error_at("level", "must be one of trace, debug, info, warn, error, fatal");
}

Result<Config> read_config(std::shared_ptr<const toml::table> doc, std::string file) {
    const toml::table& tbl = *doc;
    Config cfg;
    cfg.source_file = file;
    SectionReader top(&tbl, file, "");
    GANTRY_ASSIGN_OR_RETURN(cfg.version, top.get_int("version", cfg.version));
    if (cfg.version != 2) return top.error_at("version", "only version 2 is supported");
    GANTRY_ASSIGN_OR_RETURN(cfg.root, top.get_string("root", cfg.root));
    GANTRY_ASSIGN_OR_RETURN(cfg.state, top.get_string("state", cfg.state));
    GANTRY_ASSIGN_OR_RETURN(cfg.plugin_dir, top.get_string("plugin_dir", cfg.plugin_dir));
    GANTRY_ASSIGN_OR_RETURN(cfg.disabled_plugins,
                            top.get_strings("disabled_plugins", cfg.disabled_plugins));
    if (cfg.root.empty() || cfg.root.front() != '/')
        return top.error_at("root", "must be an absolute path");
    if (cfg.state.empty() || cfg.state.front() != '/')
        return top.error_at("state", "must be an absolute path");

    GANTRY_ASSIGN_OR_RETURN(SectionReader grpc, top.sub("grpc"));
    GANTRY_ASSIGN_OR_RETURN(cfg.grpc.address, grpc.get_string("address", cfg.grpc.address));
    GANTRY_ASSIGN_OR_RETURN(cfg.grpc.uid, grpc.get_int("uid", cfg.grpc.uid));
    GANTRY_ASSIGN_OR_RETURN(cfg.grpc.gid, grpc.get_int("gid", cfg.grpc.gid));
    GANTRY_ASSIGN_OR_RETURN(cfg.grpc.max_recv_message_size,
                            grpc.get_int("max_recv_message_size", cfg.grpc.max_recv_message_size));
    GANTRY_ASSIGN_OR_RETURN(cfg.grpc.max_send_message_size,
                            grpc.get_int("max_send_message_size", cfg.grpc.max_send_message_size));
    if (cfg.grpc.address.empty()) return grpc.error_at("address", "must not be empty");
    GANTRY_TRY(grpc.finish());

    GANTRY_ASSIGN_OR_RETURN(SectionReader metrics, top.sub("metrics"));
    GANTRY_ASSIGN_OR_RETURN(cfg.metrics_address, metrics.get_string("address", ""));
    GANTRY_TRY(metrics.finish());

    GANTRY_ASSIGN_OR_RETURN(SectionReader debug, top.sub("debug"));
    GANTRY_ASSIGN_OR_RETURN(cfg.log_level, debug.get_string("level", cfg.log_level));
    GANTRY_TRY(check_log_level(debug, cfg.log_level));
    GANTRY_ASSIGN_OR_RETURN(cfg.log_format, debug.get_string("format", cfg.log_format));
    if (cfg.log_format != "text" && cfg.log_format != "json")
        return debug.error_at("format", "must be \"text\" or \"json\"");
    GANTRY_TRY(debug.finish());

    // [plugins] is kept raw; its sub-tables are checked by each plugin's reader.
    GANTRY_ASSIGN_OR_RETURN(SectionReader plugins, top.sub("plugins"));
    (void)plugins;
    // Point into the parsed document rather than copying: copies lose source lines, which
    // plugin readers need for their error messages.
    if (const toml::table* p = tbl["plugins"].as_table())
        cfg.plugins = std::shared_ptr<const toml::table>(doc, p);
    else
        cfg.plugins = std::make_shared<const toml::table>();
    GANTRY_TRY(top.finish());
    return cfg;
}

} // namespace

Result<Config> parse_config(std::string_view text, std::string file) {
    try {
        auto doc = std::make_shared<const toml::table>(toml::parse(text, file));
        return read_config(std::move(doc), std::move(file));
    } catch (const toml::parse_error& e) {
        const auto& src = e.source();
        std::string msg = (file.empty() ? std::string("<config>") : file) + ":" +
                          std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column) +
                          ": " + std::string(e.description());
        return invalid_argument(std::move(msg));
    }
}

Result<Config> load_config(const std::string& path, bool explicitly_given) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT && !explicitly_given) {
            Config cfg;
            cfg.plugins = std::make_shared<const toml::table>();
            return cfg;
        }
        return from_errno(errno, "read config " + path);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return from_errno(errno, "read config " + path);
    return parse_config(ss.str(), path);
}

std::string render_top_level(const Config& cfg) {
    toml::array disabled;
    for (const auto& d : cfg.disabled_plugins)
        disabled.push_back(d);
    toml::table t{
        {"version", cfg.version},
        {"root", cfg.root},
        {"state", cfg.state},
        {"plugin_dir", cfg.plugin_dir},
        {"disabled_plugins", disabled},
        {"grpc", toml::table{{"address", cfg.grpc.address},
                             {"uid", cfg.grpc.uid},
                             {"gid", cfg.grpc.gid},
                             {"max_recv_message_size", cfg.grpc.max_recv_message_size},
                             {"max_send_message_size", cfg.grpc.max_send_message_size}}},
        {"metrics", toml::table{{"address", cfg.metrics_address}}},
        {"debug", toml::table{{"level", cfg.log_level}, {"format", cfg.log_format}}},
    };
    std::ostringstream out;
    out << toml::toml_formatter(t, toml::toml_formatter::default_flags &
                                       ~toml::format_flags::allow_literal_strings);
    return out.str();
}

} // namespace gantry::config
