#include "plugins/runtime/shim_binary.hpp"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>
#include <vector>

namespace gantry::runtime {
namespace fs = std::filesystem;

namespace {

bool executable(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

} // namespace

Result<std::string> shim_binary_name(std::string_view runtime) {
    const std::string_view base = runtime.substr(runtime.rfind('/') + 1);
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const auto dot = base.find('.', start);
        parts.push_back(base.substr(start, dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (parts.size() < 2)
        return invalid_argument("invalid runtime name " + std::string(runtime) +
                                ", correct runtime name should be either format like "
                                "`io.containerd.runc.v1` or a full path to the binary");
    return "containerd-shim-" + std::string(parts[parts.size() - 2]) + "-" +
           std::string(parts.back());
}

Result<std::string> resolve_shim(std::string_view runtime,
                                 const std::map<std::string, std::string, std::less<>>& overrides) {
    if (auto it = overrides.find(runtime); it != overrides.end()) {
        if (!executable(it->second))
            return not_found("shim " + it->second + " configured for runtime " +
                             std::string(runtime) + " is not an executable file");
        return it->second;
    }
    if (!runtime.empty() && runtime.front() == '/') {
        if (!executable(std::string(runtime)))
            return not_found("runtime " + std::string(runtime) + " is not an executable file");
        return std::string(runtime);
    }
    GANTRY_ASSIGN_OR_RETURN(const std::string name, shim_binary_name(runtime));
    std::vector<fs::path> dirs;
    if (const auto slash = runtime.rfind('/'); slash != std::string_view::npos) {
        std::error_code ec;
        dirs.push_back(fs::absolute(std::string(runtime.substr(0, slash)), ec));
    }
    if (const char* path = std::getenv("PATH")) {
        std::string_view p = path;
        while (!p.empty()) {
            const auto colon = p.find(':');
            if (colon != 0) dirs.emplace_back(std::string(p.substr(0, colon)));
            if (colon == std::string_view::npos) break;
            p.remove_prefix(colon + 1);
        }
    }
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back(self.parent_path());
    for (const auto& d : dirs)
        if (executable(d / name)) return (d / name).string();
    return not_found("runtime " + std::string(runtime) + ": shim binary " + name +
                     " not found on PATH or beside gantryd");
}

} // namespace gantry::runtime
