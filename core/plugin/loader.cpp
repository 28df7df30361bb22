#include "core/plugin/loader.hpp"

#include "core/log.hpp"
#include "core/plugin/abi.hpp"

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstring>
#include <dirent.h>
#include <dlfcn.h>
#include <memory>
#include <mutex>
#include <vector>

namespace gantry::plugin {

const char* core_build_id() noexcept {
    return GANTRY_BUILD_ID;
}

namespace {

// Loaded libraries, never unloaded (see header).
std::mutex g_libs_mu;
std::vector<std::unique_ptr<boost::dll::shared_library>> g_libs;

Result<const Descriptor*> open_descriptor(const std::string& path) {
    auto lib = std::make_unique<boost::dll::shared_library>();
    boost::system::error_code ec;
    // RTLD_NOW: unresolved symbols fail here, not at the first call hours later.
    // RTLD_LOCAL: two plugins cannot see each other's symbols.
    lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) {
        // Boost reports a generic code; the dynamic loader's own text says what is wrong
        // ("invalid ELF header", "undefined symbol: ..."), so ask it once more on this cold path.
        std::string why = ec.message();
        if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
            dlclose(h);
        } else if (const char* dl = dlerror()) {
            why = dl;
        }
        return failed_precondition("cannot load shared object: " + why);
    }
    if (!lib->has(kEntrySymbol))
        return failed_precondition(std::string("not a gantry plugin: symbol ") + kEntrySymbol +
                                   " is missing");
    using EntryFn = const Descriptor*();
    auto& entry = lib->get<EntryFn>(kEntrySymbol);
    const Descriptor* d = entry();
    if (d == nullptr) return failed_precondition("plugin entry returned no descriptor");
    if (d->abi_version != kAbiVersion)
        return failed_precondition("plugin ABI version " + std::to_string(d->abi_version) +
                                   " does not match gantryd's " + std::to_string(kAbiVersion));
    const char* bid = d->build_id != nullptr ? d->build_id : "";
    if (std::strcmp(bid, core_build_id()) != 0)
        return failed_precondition("plugin was built against core " + std::string(bid) +
                                   ", this gantryd is " + core_build_id() + "; rebuild it");
    if (d->registrations == nullptr) return failed_precondition("plugin has no registrations");
    std::lock_guard lk(g_libs_mu);
    g_libs.push_back(std::move(lib));
    return d;
}

} // namespace

Status load_file(const std::string& path, Registry& registry) {
    Result<const Descriptor*> d = Error(Errc::Internal, "not loaded");
    try {
        d = open_descriptor(path);
    } catch (const std::exception& e) {
        d = failed_precondition(std::string("cannot load shared object: ") + e.what());
    }
    if (!d.ok()) {
        log::warn("plugin file {}: {}", path, d.error().message());
        registry.add_failed_object(path, d.error());
        return {};
    }
    std::span<const Registration> regs = (*d)->registrations();
    for (const Registration& r : regs)
        registry.add(r, path);
    log::debug("plugin file {}: {} registration(s)", path, regs.size());
    return {};
}

Status load_directory(const std::string& dir, Registry& registry) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
    if (!d) return from_errno(errno, "plugin directory " + dir);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = readdir(d.get())) {
        std::string_view n(e->d_name);
        if (n.size() > 3 && n.substr(n.size() - 3) == ".so") names.emplace_back(n);
    }
    if (errno != 0) return from_errno(errno, "read plugin directory " + dir);
    std::sort(names.begin(), names.end());
    for (const auto& n : names)
        GANTRY_TRY(load_file(dir + "/" + n, registry));
    return {};
}

} // namespace gantry::plugin
