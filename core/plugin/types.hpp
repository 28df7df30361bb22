// Every plugin type URI in one place, spelled as containerd 1.6 spells them (protocol-facts §2.7).
#pragma once

#include <string_view>

namespace gantry::plugin::types {

inline constexpr std::string_view kInternal = "io.containerd.internal.v1";
inline constexpr std::string_view kRuntimeV2 = "io.containerd.runtime.v2";
inline constexpr std::string_view kService = "io.containerd.service.v1";
inline constexpr std::string_view kGrpc = "io.containerd.grpc.v1";
inline constexpr std::string_view kTtrpc = "io.containerd.ttrpc.v1";
inline constexpr std::string_view kSnapshotter = "io.containerd.snapshotter.v1";
inline constexpr std::string_view kDiffer = "io.containerd.differ.v1";
inline constexpr std::string_view kMetadata = "io.containerd.metadata.v1";
inline constexpr std::string_view kContent = "io.containerd.content.v1";
inline constexpr std::string_view kGc = "io.containerd.gc.v1";
inline constexpr std::string_view kEvent = "io.containerd.event.v1";
inline constexpr std::string_view kMonitor = "io.containerd.monitor.v1";

} // namespace gantry::plugin::types
