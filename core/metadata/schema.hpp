// The metadata schema: containerd's bolt bucket tree (protocol-facts.md §5.3), kept in one sorted
// LMDB keyspace at <root>/io.containerd.metadata.v1.lmdb/.
//
// clang-format off
// The tree. [x] is a bucket, k = v a value, <x> a name chosen at run time.
//
//   [v1]  version = varint(schema version, see migrations.hpp)
//    `-[<namespace>]                        exists once anything is written in it
//       |-[labels]      <key> = <value>      namespace labels
//       |-[images]      [<image name>]       createdat, updatedat = time
//       |                  |-[target]           digest, mediatype, size = varint
//       |                  |-[labels]           <key> = <value>
//       |                  `-[annotations]      <key> = <value> (the target's annotations)
//       |-[containers]  [<container id>]     createdat, updatedat = time; spec = Any;
//       |                  |                    image, snapshotter, snapshotKey
//       |                  |-[runtime]          name; options = Any (absent when unset)
//       |                  |-[extensions]       <name> = Any
//       |                  `-[labels]
//       |-[snapshots]   [<snapshotter>]
//       |                  `-[<key>]            name = backend key "<ns>/<seq>/<key>";
//       |                       |               parent = <key> (absent for roots);
//       |                       |               createdat, updatedat = time
//       |                       |-[children]    <child key> = ""
//       |                       `-[labels]
//       |-[content]
//       |   |-[blob]    [<digest>]           createdat, updatedat = time; size = varint; [labels]
//       |   `-[ingests] [<ref>]              ref = backend ref "<ns>/<seq>/<ref>";
//       |                                    expireat = time; expected = <digest>
//       `-[leases]      [<lease id>]         createdat = time; [labels]
//                          |-[content]          <digest> = ""
//                          |-[ingests]          <ref> = ""
//                          `-[snapshots]        [<snapshotter>] <key> = ""
// clang-format on
//
// Values use containerd's encodings (value_encoding.hpp): times are Go's 15-byte MarshalBinary,
// sizes and versions zigzag varints, Any values their protobuf bytes, strings their bytes.
//
// The keyspace. A key is the path of names from the top, each name one component (keys.hpp):
// its bytes with 00 escaped as 00 FF, then 00 01 if it names a bucket or 00 02 if it names a
// value. For example the creation time of image "a/b" in namespace "default" is
//
//   "v1" 00 01  "default" 00 01  "images" 00 01  "a/b" 00 01  "createdat" 00 02
//
// and what follows from that:
//  - No two paths share a key, whatever bytes the names hold ('/', "..", 00, FF, anything): a name
//    is always one component and cannot end early or swallow the next one.
//  - A bucket's prefix (the encoding of its path) starts every key below it and nothing else, so
//    one namespace's images are one range scan, and deleting a bucket deletes one range.
//  - Within a bucket names sort bytewise, as in bolt, and a name sorts before every longer name
//    that starts with it (the terminators 00 01 / 00 02 are below any escaped byte).
//  - Every bucket has a marker: an empty entry stored under exactly its prefix, the first key of
//    its range. It records that the bucket exists while empty (containerd keeps empty namespaces,
//    and Delete must tell an empty namespace from a missing one). Writes create missing markers of
//    all ancestors, so every entry's ancestors have markers. The top has no marker.
//  - The direct children of a bucket are listed without reading its grandchildren: after a child
//    bucket's marker, the cursor seeks to that prefix with its last byte 01 raised to 02, which is
//    past the child's whole subtree.
//  - A bucket and a value may share a name in one bucket (bolt refuses that; nothing relies on
//    it). So a namespace called "version" is possible and is not confused with the version value.
//  - Names longer than 128 escaped bytes are hashed (keys.hpp) to respect LMDB's 511-byte key
//    limit; the full name is stored with the entry and checked on every access.
//
// Our schema version is 1: version 1 of THIS layout. containerd's bolt store calls its current
// layout version 3; our layout maps that tree, and the numbers are unrelated.
#pragma once

#include "core/metadata/keys.hpp"

#include <string_view>

namespace gantry::metadata::schema {

// Bucket and value names, as containerd spells them.
inline constexpr std::string_view kV1 = "v1";
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kLabels = "labels";
inline constexpr std::string_view kAnnotations = "annotations";
inline constexpr std::string_view kImages = "images";
inline constexpr std::string_view kContainers = "containers";
inline constexpr std::string_view kSnapshots = "snapshots";
inline constexpr std::string_view kContent = "content";
inline constexpr std::string_view kBlob = "blob";
inline constexpr std::string_view kIngests = "ingests";
inline constexpr std::string_view kLeases = "leases";

inline constexpr std::string_view kCreatedAt = "createdat";
inline constexpr std::string_view kUpdatedAt = "updatedat";
inline constexpr std::string_view kTarget = "target";
inline constexpr std::string_view kDigest = "digest";
inline constexpr std::string_view kMediaType = "mediatype";
inline constexpr std::string_view kSize = "size";
inline constexpr std::string_view kSpec = "spec";
inline constexpr std::string_view kImage = "image";
inline constexpr std::string_view kSnapshotter = "snapshotter";
inline constexpr std::string_view kSnapshotKey = "snapshotKey";
inline constexpr std::string_view kRuntime = "runtime";
inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kOptions = "options";
inline constexpr std::string_view kExtensions = "extensions";
inline constexpr std::string_view kParent = "parent";
inline constexpr std::string_view kChildren = "children";
inline constexpr std::string_view kRef = "ref";
inline constexpr std::string_view kExpireAt = "expireat";
inline constexpr std::string_view kExpected = "expected";

// v1
inline BucketPath v1() {
    return BucketPath().child(kV1);
}
// v1/<ns>: the root of everything a namespace owns. Typed stores start every path here.
inline BucketPath namespace_bucket(std::string_view ns) {
    return v1().child(ns);
}
// v1/<ns>/<object>, e.g. object_bucket(ns, kImages).
inline BucketPath object_bucket(std::string_view ns, std::string_view object) {
    return namespace_bucket(ns).child(object);
}
// v1/<ns>/content/blob and v1/<ns>/content/ingests
inline BucketPath blobs_bucket(std::string_view ns) {
    return object_bucket(ns, kContent).child(kBlob);
}
inline BucketPath ingests_bucket(std::string_view ns) {
    return object_bucket(ns, kContent).child(kIngests);
}
// v1/<ns>/snapshots/<snapshotter>
inline BucketPath snapshotter_bucket(std::string_view ns, std::string_view snapshotter) {
    return object_bucket(ns, kSnapshots).child(snapshotter);
}

} // namespace gantry::metadata::schema
