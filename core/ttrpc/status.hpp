// ttrpc statuses and metadata (protocol-facts §9.3, §9.4).
//
// A Response carries google.rpc.Status only on failure. Errc values are gRPC codes, so the
// mapping is the identity; the message gets containerd's class suffix as gRPC services send it,
// because containerd's Go side strips that suffix again.
#pragma once

#include "core/errors.hpp"
#include "google/rpc/status.pb.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::ttrpc {

// The namespace header of ttrpc calls (gRPC uses "containerd-namespace").
inline constexpr std::string_view kNamespaceKey = "containerd-namespace-ttrpc";

// Request metadata in wire order; a key may repeat. Keys are sent lower-case.
using Metadata = std::vector<std::pair<std::string, std::string>>;

// The first value of `key` (case-insensitive), as containerd reads its headers.
std::optional<std::string_view> metadata_get(const Metadata& md, std::string_view key);

google::rpc::Status to_status(const Error& e);
// A non-zero status as an Error; codes outside containerd's classes become Unknown.
Error from_status(const google::rpc::Status& s);

} // namespace gantry::ttrpc
