// Reads one TOML table into typed values and remembers which keys were read, so that anything
// left over is reported as an unknown key with its file and line: a typo in a config must never
// be silently ignored.
#pragma once

#include "core/errors.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
class node;
} // namespace v3
} // namespace toml

namespace gantry::config {

class SectionReader {
public:
    // `table` may be null (section absent): every get returns its default.
    SectionReader(const toml::table* table, std::string file, std::string section);

    Result<std::string> get_string(std::string_view key, std::string def);
    Result<bool> get_bool(std::string_view key, bool def);
    Result<std::int64_t> get_int(std::string_view key, std::int64_t def);
    Result<double> get_double(std::string_view key, double def);
    Result<std::vector<std::string>> get_strings(std::string_view key,
                                                 std::vector<std::string> def);
    // A nested table; the returned reader reports its own unknown keys through finish().
    Result<SectionReader> sub(std::string_view key);
    bool has(std::string_view key) const;

    // InvalidArgument naming file, line and the first key that no get_*() asked for.
    Status finish() const;

    const std::string& file() const { return file_; }
    const std::string& section() const { return section_; }
    // A one-line error located at `key` (or at the section when the key is absent).
    Error error_at(std::string_view key, std::string_view what) const;

private:
    const toml::node* lookup(std::string_view key);
    std::string where(const toml::node* node) const;

    const toml::table* table_;
    std::string file_;
    std::string section_;
    std::set<std::string, std::less<>> seen_;
};

} // namespace gantry::config
