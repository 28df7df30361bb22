// Levelled, structured logs on stderr. Text lines look like containerd's (logrus):
//   time="2026-11-23T10:00:00.000000Z" level=info msg="..."
// and `json` gives one JSON object per line for log shippers.
#pragma once

#include "core/errors.hpp"

#include <spdlog/spdlog.h>
#include <string_view>

namespace gantry::log {

// level: trace|debug|info|warn|error|fatal; format: text|json.
Status setup(std::string_view level, std::string_view format);

template <typename... Args>
void trace(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    spdlog::trace(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    spdlog::debug(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    spdlog::info(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    spdlog::warn(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    spdlog::error(fmt, std::forward<Args>(args)...);
}

} // namespace gantry::log
