#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace gantry::log {

namespace {

// Escapes the message for a double-quoted field, so a message with quotes or newlines still
// yields exactly one parseable line.
class EscapedMessage final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        for (char c : msg.payload) {
            switch (c) {
            case '"':
                dest.append(std::string_view("\\\""));
                break;
            case '\\':
                dest.append(std::string_view("\\\\"));
                break;
            case '\n':
                dest.append(std::string_view("\\n"));
                break;
            case '\t':
                dest.append(std::string_view("\\t"));
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    int n = std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    dest.append(buf, buf + n);
                } else {
                    dest.push_back(c);
                }
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<EscapedMessage>();
    }
};

} // namespace

Status setup(std::string_view level, std::string_view format) {
    auto lvl = spdlog::level::from_str(std::string(level == "fatal" ? "critical" : level));
    if (lvl == spdlog::level::off && level != "off")
        return invalid_argument("unknown log level \"" + std::string(level) + "\"");
    auto logger = std::make_shared<spdlog::logger>(
        "gantry", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    auto fmt = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    fmt->add_flag<EscapedMessage>('*');
    if (format == "json")
        fmt->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%*"})");
    else if (format == "text")
        fmt->set_pattern(R"(time="%Y-%m-%dT%H:%M:%S.%fZ" level=%l msg="%*")");
    else
        return invalid_argument("unknown log format \"" + std::string(format) + "\"");
    logger->set_formatter(std::move(fmt));
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
    return {};
}

} // namespace gantry::log
