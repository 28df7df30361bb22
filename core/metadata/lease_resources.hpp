// Recording what a lease holds. Content writes, ingests and snapshot prepares made under a
// `containerd-lease` header are added to that lease in the same transaction as the object, so
// garbage collection can never see the object without its lease.
#pragma once

#include "core/metadata/lmdb.hpp"

#include <string_view>

namespace gantry::metadata::leases {

// Resource types as containerd names them (protocol-facts §2.8).
inline constexpr std::string_view kContent = "content";
inline constexpr std::string_view kIngests = "ingests";
// Snapshots are "snapshots/<snapshotter>".

// Adds `id` of `type` to lease `lease_id` in namespace `ns`. NotFound "lease does not exist"
// when the lease is absent. An empty lease_id does nothing (no header, no lease).
Status add_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                    std::string_view type, std::string_view id);
// Removes it; absent resources are not an error.
Status remove_resource(WriteTxn& txn, std::string_view ns, std::string_view lease_id,
                       std::string_view type, std::string_view id);

} // namespace gantry::metadata::leases
