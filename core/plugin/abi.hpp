// The boundary between gantryd and a plugin shared object.
//
// A .so exports exactly one extern "C" symbol, kEntrySymbol, returning a pointer to a
// Descriptor. The loader reads only the leading plain-C fields (abi_version, build_id) before it
// trusts anything else: a plugin compiled against another core may lay out C++ types
// differently, so its registrations are touched only once both fields match.
#pragma once

#include "core/build_info.hpp"
#include "core/plugin/registration.hpp"

#include <cstdint>
#include <span>

namespace gantry::plugin {

// Bump when Descriptor or Registration changes shape.
inline constexpr std::uint32_t kAbiVersion = 1;
inline constexpr const char* kEntrySymbol = "gantry_plugin_entry";

extern "C" {
struct Descriptor {
    std::uint32_t abi_version;
    const char* build_id;
    const char* name;
    // Valid only when abi_version and build_id match the core's.
    std::span<const Registration> (*registrations)();
};
}

// The build id of the core this process runs (compiled into libgantry-core.so).
const char* core_build_id() noexcept;

} // namespace gantry::plugin

#ifndef GANTRY_PLUGIN_ABI_VERSION
#define GANTRY_PLUGIN_ABI_VERSION ::gantry::plugin::kAbiVersion
#endif
#ifndef GANTRY_PLUGIN_BUILD_ID
#define GANTRY_PLUGIN_BUILD_ID GANTRY_BUILD_ID
#endif

// Defines the entry symbol of a plugin .so. `fn` returns std::span<const Registration>.
// The overridable ABI/build-id macros exist so tests can build deliberately mismatched plugins.
#define GANTRY_PLUGIN_ENTRY(plugin_name, fn)                                                       \
    extern "C" __attribute__((visibility("default"))) const ::gantry::plugin::Descriptor*          \
    gantry_plugin_entry() {                                                                        \
        static const ::gantry::plugin::Descriptor d{GANTRY_PLUGIN_ABI_VERSION,                     \
                                                    GANTRY_PLUGIN_BUILD_ID, plugin_name, fn};      \
        return &d;                                                                                 \
    }
