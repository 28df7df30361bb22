// Small file, time, JSON and logging helpers for the shim (no iostream, no JSON library).
#pragma once

#include "shims/gantry-shim/pb.hpp"

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::shim {

std::optional<std::string> readFile(const std::string& path);
// Writes via `<dir>/.<name>` and a rename, so readers never see a partial file.
bool writeFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);
bool writeFile(const std::string& path, std::string_view data);

timespec wallNow();
// google.protobuf.Timestamp{seconds=1, nanos=2}.
pb::Writer timestamp(const timespec& ts);
// google.protobuf.Any{type_url=1, value=2}.
pb::Writer any(std::string_view typeUrl, std::string_view value);

// Appends one line to stderr, which the long-running shim points at the bundle's `log` FIFO.
void logLine(std::string_view level, std::string_view msg);

std::string jsonQuote(std::string_view s);
// The string value of the first `"key": "..."` in a flat JSON text, unescaped.
std::optional<std::string> jsonString(std::string_view json, std::string_view key);
// The `msg` of the last error line of a runc-style JSON log file (`--log-format json`), looking
// only past byte `from` (what earlier commands logged is not this command's error).
std::string lastRuntimeError(const std::string& logPath, size_t from);

std::string_view trim(std::string_view s);

} // namespace gantry::shim
