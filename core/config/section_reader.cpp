#include "core/config/section_reader.hpp"

#include <toml++/toml.h>

namespace gantry::config {

SectionReader::SectionReader(const toml::table* table, std::string file, std::string section)
    : table_(table), file_(std::move(file)), section_(std::move(section)) {}

bool SectionReader::has(std::string_view key) const {
    return table_ != nullptr && table_->contains(key);
}

const toml::node* SectionReader::lookup(std::string_view key) {
    seen_.emplace(key);
    if (table_ == nullptr) return nullptr;
    return table_->get(key);
}

std::string SectionReader::where(const toml::node* node) const {
    std::string out = file_.empty() ? std::string("<config>") : file_;
    if (node != nullptr && node->source().begin.line > 0)
        out += ":" + std::to_string(node->source().begin.line);
    return out;
}

Error SectionReader::error_at(std::string_view key, std::string_view what) const {
    const toml::node* node = table_ != nullptr ? table_->get(key) : nullptr;
    if (node == nullptr) node = table_;
    std::string msg = where(node) + ": ";
    msg += section_.empty() ? std::string(key) : section_ + "." + std::string(key);
    msg += ": ";
    msg += what;
    return invalid_argument(std::move(msg));
}

Result<std::string> SectionReader::get_string(std::string_view key, std::string def) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return def;
    if (auto v = n->value<std::string>(); v && n->is_string()) return *v;
    return error_at(key, "expected a string");
}

Result<bool> SectionReader::get_bool(std::string_view key, bool def) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return def;
    if (n->is_boolean()) return *n->value<bool>();
    return error_at(key, "expected true or false");
}

Result<std::int64_t> SectionReader::get_int(std::string_view key, std::int64_t def) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return def;
    if (n->is_integer()) return *n->value<std::int64_t>();
    return error_at(key, "expected an integer");
}

Result<double> SectionReader::get_double(std::string_view key, double def) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return def;
    if (n->is_floating_point() || n->is_integer()) return *n->value<double>();
    return error_at(key, "expected a number");
}

Result<std::vector<std::string>> SectionReader::get_strings(std::string_view key,
                                                            std::vector<std::string> def) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return def;
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return error_at(key, "expected an array of strings");
    std::vector<std::string> out;
    for (const toml::node& e : *arr) {
        auto s = e.value<std::string>();
        if (!e.is_string() || !s) return error_at(key, "expected an array of strings");
        out.push_back(*s);
    }
    return out;
}

Result<SectionReader> SectionReader::sub(std::string_view key) {
    const toml::node* n = lookup(key);
    std::string name = section_.empty() ? std::string(key) : section_ + "." + std::string(key);
    if (n == nullptr) return SectionReader(nullptr, file_, std::move(name));
    if (!n->is_table()) return error_at(key, "expected a table");
    return SectionReader(n->as_table(), file_, std::move(name));
}

Status SectionReader::finish() const {
    if (table_ == nullptr) return {};
    for (const auto& [k, node] : *table_) {
        if (seen_.find(k.str()) != seen_.end()) continue;
        std::string msg = where(&node) + ": unknown key \"" + std::string(k.str()) + "\"";
        if (!section_.empty()) msg += " in [" + section_ + "]";
        return invalid_argument(std::move(msg));
    }
    return {};
}

} // namespace gantry::config
