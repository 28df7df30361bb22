#include "cmd/gantry/snapshot_text.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <unordered_map>

namespace gantry::cli {

std::string default_snapshotter() {
    for (const char* var : {"GANTRY_SNAPSHOTTER", "CONTAINERD_SNAPSHOTTER"})
        if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
    return "overlayfs";
}

std::string display_size(std::int64_t bytes) {
    static const char* const units[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                        "PiB", "EiB", "ZiB", "YiB"};
    double size = static_cast<double>(bytes);
    std::size_t i = 0;
    while (size >= 1024.0 && i + 1 < std::size(units)) {
        size /= 1024.0;
        ++i;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02.1f %s", size, units[i]);
    return buf;
}

std::string_view kind_string(int kind) {
    switch (kind) {
    case 1:
        return "View";
    case 2:
        return "Active";
    case 3:
        return "Committed";
    default:
        return "Unknown";
    }
}

std::string render_tree(const std::vector<SnapshotRow>& rows) {
    struct Node {
        std::string name;
        std::string parent;
        std::vector<std::string> children;
    };
    std::vector<Node> nodes;
    std::unordered_map<std::string, std::size_t> index;
    // ctr's snapshotTree.add, including its placeholders for parents not listed (yet).
    std::function<std::size_t(const std::string&, const std::string&)> add =
        [&](const std::string& name, const std::string& parent) -> std::size_t {
        std::size_t at;
        if (auto it = index.find(name); it == index.end()) {
            at = nodes.size();
            nodes.push_back({name, parent, {}});
            index.emplace(name, at);
        } else {
            at = it->second;
            nodes[at].parent = parent;
        }
        if (!parent.empty()) {
            auto p = index.find(parent);
            std::size_t pi = p == index.end() ? add(parent, "") : p->second;
            nodes[pi].children.push_back(name);
        }
        return at;
    };
    for (const auto& r : rows)
        add(r.name, r.parent);
    std::string out;
    std::function<void(const std::string&, int)> print = [&](const std::string& name, int level) {
        const Node& n = nodes[index.at(name)];
        std::string prefix;
        for (int i = 0; i < level; ++i)
            prefix += "  ";
        if (level > 0) prefix += "\\_";
        out += prefix + " " + n.name + "\n";
        for (const auto& c : n.children)
            print(c, level + 1);
    };
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].parent.empty()) print(nodes[i].name, 0);
    return out;
}

std::string mount_commands(std::string_view target, const std::vector<MountLine>& mounts) {
    std::string out;
    for (const auto& m : mounts) {
        std::string opts;
        for (const auto& o : m.options)
            opts += (opts.empty() ? "" : ",") + o;
        out += "mount -t " + m.type + " " + m.source + " " + std::string(target) + " -o " + opts +
               "\n";
    }
    return out;
}

namespace {

// Go's encoding/json string form (HTML-safe escaping, as json.Marshal does by default).
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        char buf[8];
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '<':
        case '>':
        case '&':
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
            break;
        default:
            if (c < 0x20) {
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else if (c == 0xE2 && i + 2 < s.size() &&
                       static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                       (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                        static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
                out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
                i += 2;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

} // namespace

std::string go_time_json(std::int64_t seconds, std::int32_t nanos) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out = buf;
    if (nanos > 0) {
        std::snprintf(buf, sizeof buf, ".%09d", nanos);
        std::string frac = buf;
        while (frac.back() == '0')
            frac.pop_back();
        out += frac;
    }
    return "\"" + out + "Z\"";
}

std::string info_json(const SnapshotRow& r) {
    std::string out = "{\n";
    out += "    \"Kind\": " + json_string(kind_string(r.kind)) + ",\n";
    out += "    \"Name\": " + json_string(r.name) + ",\n";
    if (!r.parent.empty()) out += "    \"Parent\": " + json_string(r.parent) + ",\n";
    if (!r.labels.empty()) {
        out += "    \"Labels\": {\n";
        std::size_t i = 0;
        for (const auto& [k, v] : r.labels)
            out += "        " + json_string(k) + ": " + json_string(v) +
                   (++i < r.labels.size() ? ",\n" : "\n");
        out += "    },\n";
    }
    out += "    \"Created\": " + go_time_json(r.created_seconds, r.created_nanos) + ",\n";
    out += "    \"Updated\": " + go_time_json(r.updated_seconds, r.updated_nanos) + "\n";
    return out + "}\n";
}

} // namespace gantry::cli
