#include "cmd/gantry/labels.hpp"

namespace gantry::cli {

std::map<std::string, std::string> parse_label_args(std::span<const std::string> args) {
    std::map<std::string, std::string> labels;
    for (const auto& arg : args) {
        const auto eq = arg.find('=');
        if (eq == std::string::npos)
            labels[arg] = "true";
        else
            labels[arg.substr(0, eq)] = arg.substr(eq + 1);
    }
    return labels;
}

} // namespace gantry::cli
