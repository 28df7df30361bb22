// Labels on the command line and in listings, written the way ctr writes them.
#pragma once

#include <algorithm>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::cli {

// "key=value" arguments into a map. As in ctr, a bare "key" means "key=true", "key=" is an empty
// value (which, in an update, removes the label), and a later duplicate wins.
std::map<std::string, std::string> parse_label_args(std::span<const std::string> args);

// "k1=v1,k2=v2", sorted, or `if_empty` when there are none. Works for std::map and protobuf maps.
template <typename LabelMap>
std::string format_labels(const LabelMap& labels, std::string_view if_empty = "") {
    if (labels.empty()) return std::string(if_empty);
    std::vector<std::string> pairs;
    pairs.reserve(labels.size());
    for (const auto& [key, value] : labels)
        pairs.push_back(key + "=" + value);
    std::sort(pairs.begin(), pairs.end());
    std::string out;
    for (const auto& pair : pairs) {
        if (!out.empty()) out.push_back(',');
        out += pair;
    }
    return out;
}

} // namespace gantry::cli
