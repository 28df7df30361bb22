// How `gantry snapshots` prints things, byte for byte as ctr 1.6 does where ctr has the same
// command: sizes (progress.Bytes), the tree, mount commands, and `info` as Go's indented JSON of
// snapshots.Info. Plain data in, text out: no gRPC here, so unit tests link it alone.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::cli {

// The snapshotter a command uses without --snapshotter: $GANTRY_SNAPSHOTTER, else
// $CONTAINERD_SNAPSHOTTER (ctr's variable), else "overlayfs".
std::string default_snapshotter();

// containerd's progress.Bytes: "%02.1f %s" in powers of 1024 ("0.0 B", "4.0 KiB", "1.5 MiB").
std::string display_size(std::int64_t bytes);

struct SnapshotRow {
    std::string name;
    std::string parent;
    int kind = 0; // the wire enum: 0 unknown, 1 view, 2 active, 3 committed
    std::int64_t created_seconds = 0;
    std::int32_t created_nanos = 0;
    std::int64_t updated_seconds = 0;
    std::int32_t updated_nanos = 0;
    std::map<std::string, std::string> labels;
};

// Go's Kind.String(): "View", "Active", "Committed", "Unknown".
std::string_view kind_string(int kind);

// ctr's `snapshots tree`: each root, then its children indented two spaces a level with "\_",
// in listing order; a parent missing from the listing becomes a placeholder node.
std::string render_tree(const std::vector<SnapshotRow>& rows);

// ctr's printMounts: "mount -t <type> <source> <target> -o <opt,opt>\n" per mount.
struct MountLine {
    std::string type;
    std::string source;
    std::vector<std::string> options;
};
std::string mount_commands(std::string_view target, const std::vector<MountLine>& mounts);

// ctr's `snapshots info`: json.MarshalIndent(info, "", "    ") of snapshots.Info, then "\n".
std::string info_json(const SnapshotRow& row);

// Go's time.Time JSON form of a UTC instant: RFC 3339 with the nanoseconds' trailing zeros cut.
std::string go_time_json(std::int64_t seconds, std::int32_t nanos);

} // namespace gantry::cli
