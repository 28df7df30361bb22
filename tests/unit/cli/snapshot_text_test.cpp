// `gantry snapshots` text: sizes as containerd's progress.Bytes, ctr's tree, mount commands and
// Go's JSON of snapshots.Info. (The integration test compares whole outputs with ctr's.)
#include "cmd/gantry/snapshot_text.hpp"

#include <cstdlib>
#include <gtest/gtest.h>

namespace gantry::cli {
namespace {

TEST(SnapshotText, DisplaySizeIsProgressBytes) {
    EXPECT_EQ(display_size(0), "0.0 B");
    EXPECT_EQ(display_size(1023), "1023.0 B");
    EXPECT_EQ(display_size(1024), "1.0 KiB");
    EXPECT_EQ(display_size(4096), "4.0 KiB");
    EXPECT_EQ(display_size(1536 * 1024), "1.5 MiB");
    EXPECT_EQ(display_size(5LL << 30), "5.0 GiB");
}

TEST(SnapshotText, KindNamesAreGos) {
    EXPECT_EQ(kind_string(0), "Unknown");
    EXPECT_EQ(kind_string(1), "View");
    EXPECT_EQ(kind_string(2), "Active");
    EXPECT_EQ(kind_string(3), "Committed");
    EXPECT_EQ(kind_string(9), "Unknown");
}

SnapshotRow row(std::string name, std::string parent) {
    SnapshotRow r;
    r.name = std::move(name);
    r.parent = std::move(parent);
    return r;
}

TEST(SnapshotText, TreeAsCtrPrintsIt) {
    // Listing order is by key; "c" arrives before its parent "p" (a placeholder first).
    std::vector<SnapshotRow> rows{row("a", ""),  row("b", "a"), row("c", "p"),
                                  row("d", "b"), row("e", "a"), row("p", "")};
    EXPECT_EQ(render_tree(rows), " a\n"
                                 "  \\_ b\n"
                                 "    \\_ d\n"
                                 "  \\_ e\n"
                                 " p\n"
                                 "  \\_ c\n");
    EXPECT_EQ(render_tree({}), "");
}

TEST(SnapshotText, MountCommandsAsCtrPrintsThem) {
    std::vector<MountLine> m{{"overlay", "overlay", {"workdir=/w", "upperdir=/u", "lowerdir=/l"}},
                             {"bind", "/src", {"ro", "rbind"}}};
    EXPECT_EQ(mount_commands("/mnt", m),
              "mount -t overlay overlay /mnt -o workdir=/w,upperdir=/u,lowerdir=/l\n"
              "mount -t bind /src /mnt -o ro,rbind\n");
}

TEST(SnapshotText, InfoIsGoIndentedJson) {
    SnapshotRow r = row("k<1>", "base");
    r.kind = 2;
    r.created_seconds = 1700000000; // 2023-11-14T22:13:20Z
    r.created_nanos = 120000000;
    r.updated_seconds = 1700000001;
    r.updated_nanos = 0;
    r.labels = {{"z", "1"}, {"containerd.io/gc.root", "a\"b&"}};
    EXPECT_EQ(info_json(r), "{\n"
                            "    \"Kind\": \"Active\",\n"
                            "    \"Name\": \"k\\u003c1\\u003e\",\n"
                            "    \"Parent\": \"base\",\n"
                            "    \"Labels\": {\n"
                            "        \"containerd.io/gc.root\": \"a\\\"b\\u0026\",\n"
                            "        \"z\": \"1\"\n"
                            "    },\n"
                            "    \"Created\": \"2023-11-14T22:13:20.12Z\",\n"
                            "    \"Updated\": \"2023-11-14T22:13:21Z\"\n"
                            "}\n");
    SnapshotRow root = row("r", "");
    root.kind = 3;
    EXPECT_EQ(info_json(root), "{\n"
                               "    \"Kind\": \"Committed\",\n"
                               "    \"Name\": \"r\",\n"
                               "    \"Created\": \"1970-01-01T00:00:00Z\",\n"
                               "    \"Updated\": \"1970-01-01T00:00:00Z\"\n"
                               "}\n");
}

TEST(SnapshotText, DefaultSnapshotterFromEnvironment) {
    ::unsetenv("GANTRY_SNAPSHOTTER");
    ::unsetenv("CONTAINERD_SNAPSHOTTER");
    EXPECT_EQ(default_snapshotter(), "overlayfs");
    ::setenv("CONTAINERD_SNAPSHOTTER", "native", 1);
    EXPECT_EQ(default_snapshotter(), "native");
    ::setenv("GANTRY_SNAPSHOTTER", "btrfs", 1);
    EXPECT_EQ(default_snapshotter(), "btrfs");
    ::unsetenv("GANTRY_SNAPSHOTTER");
    ::unsetenv("CONTAINERD_SNAPSHOTTER");
}

} // namespace
} // namespace gantry::cli
