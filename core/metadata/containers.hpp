// Containers (protocol-facts §2.2, §3.5, §4, §5.3): the records under v1/<ns>/containers/<id>,
// with containerd's validation and update-mask rules (metadata/containers.go in containerd 1.6),
// and the containers::Store interface the Containers gRPC service talks to (implemented by
// plugins/containers).
//
// Record layout, as containerd writes it:
//   createdat, updatedat = time; spec = Any (protobuf bytes); image, snapshotter, snapshotKey =
//   strings (written even when empty); [runtime] name, options = Any (absent when unset);
//   [extensions] <name> = Any; [labels] <key> = <value> (empty values never stored).
//
// Where we differ from containerd 1.6 on purpose (it never matters to a client that behaves):
//   - Replacing `extensions` replaces them; containerd only ever adds keys, so extensions left
//     out of a replacement survived there.
//   - An `extensions.<k>` mask path whose key the request lacks deletes that extension, as a
//     `labels.<k>` path does; containerd stored an empty Any under the key.
#pragma once

#include "core/errors.hpp"
#include "core/filters/filter.hpp"
#include "core/metadata/lmdb.hpp"
#include "core/metadata/value_encoding.hpp"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::containers {

// A google.protobuf.Any as stored: the type URL and the encoded value, opaque to the store.
struct Any {
    std::string type_url;
    std::string value;

    bool operator==(const Any&) const = default;
};

struct Runtime {
    std::string name;
    std::optional<Any> options; // nullopt: not sent (containerd's nil)

    bool operator==(const Runtime&) const = default;
};

struct Container {
    std::string id;
    std::map<std::string, std::string> labels;
    std::string image;
    Runtime runtime;
    std::optional<Any> spec; // required; nullopt only in requests that omit it
    std::string snapshotter;
    std::string snapshot_key;
    metadata::Timestamp created_at;
    metadata::Timestamp updated_at;
    std::map<std::string, Any> extensions;

    bool operator==(const Container&) const = default;
};

// The type URL of an OCI runtime spec carried as JSON (protocol-facts §1.4).
inline constexpr std::string_view kSpecTypeUrl =
    "types.containerd.io/opencontainers/runtime-spec/1/Spec";

// containerd's validateContainer: the id is an identifier, no empty extension key, labels within
// size, runtime.name set, spec set, snapshotter set whenever snapshot_key is. InvalidArgument with
// containerd's messages (without the caller's "create container failed validation: " context).
Status validate_container(const Container& container);

// The container as a filter sees it: id, image, runtime.name, labels.<k> (protocol-facts §3.5;
// containerd's adaptor offers nothing else, so `snapshotter` is never present).
bool matches(const filters::Filter& filter, const Container& container);

// What the Containers service needs; one call per RPC, each in its own transaction. Events and
// garbage collection are the implementation's business (plugins/containers).
class Store {
public:
    virtual ~Store() = default;
    virtual Result<Container> get(std::string_view ns, std::string_view id) = 0;
    // `filters`: containerd filter strings, OR-ed; a parse error is InvalidArgument. In id order.
    virtual Result<std::vector<Container>> list(std::string_view ns,
                                                std::span<const std::string> filters) = 0;
    // Validates, sets created_at = updated_at = now (UTC). AlreadyExists for a duplicate id.
    virtual Result<Container> create(std::string_view ns, const Container& container) = 0;
    // Mask paths per protocol-facts §4; none replaces labels, spec, extensions, image and
    // snapshot key (snapshotter and runtime.name must then be unchanged). NotFound if absent.
    virtual Result<Container> update(std::string_view ns, const Container& container,
                                     std::span<const std::string> paths) = 0;
    // NotFound if absent. Does not look for tasks (containerd does not either).
    virtual Status remove(std::string_view ns, std::string_view id) = 0;
};

} // namespace gantry::containers

namespace gantry::metadata::containers {

using gantry::containers::Container;

// NotFound `container "<id>" in namespace "<ns>"` when absent.
Result<Container> get(const Txn& txn, std::string_view ns, std::string_view id);
// The namespace's containers in id order that match `filter`.
Result<std::vector<Container>> list(const Txn& txn, std::string_view ns,
                                    const filters::Filter& filter);
// Validates, stamps the times and writes. Returns the stored container.
Result<Container> create(WriteTxn& txn, std::string_view ns, const Container& container,
                         Timestamp now);
// Applies the mask (or the full-replace rules), validates the result, keeps created_at, stamps
// updated_at. Returns the stored container.
Result<Container> update(WriteTxn& txn, std::string_view ns, const Container& container,
                         std::span<const std::string> paths, Timestamp now);
// NotFound when absent.
Status remove(WriteTxn& txn, std::string_view ns, std::string_view id);

} // namespace gantry::metadata::containers
