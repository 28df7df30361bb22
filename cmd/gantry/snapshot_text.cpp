#include "cmd/gantry/snapshot_text.hpp"

#include "cmd/gantry/go_json.hpp"

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

std::string go_time_json(std::int64_t seconds, std::int32_t nanos) {
    return "\"" + go_rfc3339_nano(seconds, nanos) + "\"";
}

std::string info_json(const SnapshotRow& r) {
    std::string out = "{\n";
    out += "    \"Kind\": " + go_json_quote(kind_string(r.kind)) + ",\n";
    out += "    \"Name\": " + go_json_quote(r.name) + ",\n";
    if (!r.parent.empty()) out += "    \"Parent\": " + go_json_quote(r.parent) + ",\n";
    if (!r.labels.empty()) {
        out += "    \"Labels\": {\n";
        std::size_t i = 0;
        for (const auto& [k, v] : r.labels)
            out += "        " + go_json_quote(k) + ": " + go_json_quote(v) +
                   (++i < r.labels.size() ? ",\n" : "\n");
        out += "    },\n";
    }
    out += "    \"Created\": " + go_time_json(r.created_seconds, r.created_nanos) + ",\n";
    out += "    \"Updated\": " + go_time_json(r.updated_seconds, r.updated_nanos) + "\n";
    return out + "}\n";
}

} // namespace gantry::cli
