// apply_layer on well-formed layers: every entry type, metadata, whiteouts in both modes,
// opaque directories, merges and replacements. Runs as root (ownership, devices, trusted.*).
#include "core/archive/apply.hpp"
#include "tar_builder.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace gantry::archive {
namespace {

namespace stdfs = std::filesystem;
using namespace testing;

struct stat lstat_of(const stdfs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st;
}

std::string xattr_of(const stdfs::path& p, const char* key) {
    char buf[256];
    ssize_t n = ::lgetxattr(p.c_str(), key, buf, sizeof buf);
    return n < 0 ? std::string("<none>") : std::string(buf, static_cast<std::size_t>(n));
}

Result<ApplyStats> apply_bytes(const std::string& tar, const stdfs::path& root,
                               const ApplyOptions& opt = {}) {
    SpanSource src(tar);
    return apply_layer(src, root, opt);
}

class ApplyTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (ownership, device nodes)";
        root_ = tmp_.path() / "root";
        stdfs::create_directory(root_);
    }
    TempDir tmp_;
    stdfs::path root_;
};

TEST_F(ApplyTest, EveryEntryTypeWithMetadata) {
    Entry f = file("bin/tool", "#!/bin/sh\necho hi\n", 04755);
    f.uid = 1234;
    f.gid = 5678;
    f.mtime = 1'500'000'000;
    f.mtime_nsec = 123'456'789;
    f.xattrs = {{"user.origin", "layer"}, {"trusted.overlay.redirect", "/x"}};
    Entry d = dir("bin", 0751);
    d.uid = 7;
    d.mtime = 1'400'000'000;
    Entry tmpd = dir("tmp", 01777);
    Entry l = symlink("bin/link", "/bin/tool");
    l.uid = 99;
    l.gid = 98;
    Entry fifo = node("run/fifo", AE_IFIFO);
    fifo.mode = 0620;
    Entry chr = node("dev/null", AE_IFCHR, 1, 3);
    chr.mode = 0666;
    Entry blk = node("dev/loop9", AE_IFBLK, 7, 9);
    // A hard link header carries the file's metadata (containerd applies it to the inode).
    Entry h = f;
    h.hardlink = "bin/tool";
    h.name = "bin/hard";
    h.xattrs.clear();
    std::string tar = tar_of({d, f, l, h, tmpd, fifo, chr, blk});

    ApplyOptions opt;
    opt.devices = DeviceNodes::Create;
    auto stats = apply_bytes(tar, root_, opt);
    ASSERT_TRUE(stats.ok()) << stats.error().message();
    EXPECT_EQ(stats->entries, 8u);
    EXPECT_EQ(stats->files, 1u);
    EXPECT_EQ(stats->directories, 2u);
    EXPECT_EQ(stats->symlinks, 1u);
    EXPECT_EQ(stats->hardlinks, 1u);
    EXPECT_EQ(stats->specials, 3u);
    EXPECT_EQ(stats->bytes, std::int64_t(f.data.size()));

    auto st = lstat_of(root_ / "bin/tool");
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 04755u) << "setuid survives the chown";
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
    EXPECT_EQ(st.st_mtim.tv_sec, 1'500'000'000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 123'456'789);
    EXPECT_EQ(st.st_nlink, 2u);
    EXPECT_EQ(read_file(root_ / "bin/tool"), f.data);
    EXPECT_EQ(xattr_of(root_ / "bin/tool", "user.origin"), "layer");
    EXPECT_EQ(xattr_of(root_ / "bin/tool", "trusted.overlay.redirect"), "<none>")
        << "trusted.* from a layer is ignored, as containerd does";
    EXPECT_EQ(lstat_of(root_ / "bin/hard").st_ino, st.st_ino);

    auto ds = lstat_of(root_ / "bin");
    EXPECT_EQ(ds.st_mode & 07777, 0751u);
    EXPECT_EQ(ds.st_uid, 7u);
    EXPECT_EQ(ds.st_mtim.tv_sec, 1'400'000'000) << "directory times are set after its children";
    EXPECT_EQ(lstat_of(root_ / "tmp").st_mode & 07777, 01777u);

    auto ls = lstat_of(root_ / "bin/link");
    EXPECT_TRUE(S_ISLNK(ls.st_mode));
    EXPECT_EQ(ls.st_uid, 99u);
    EXPECT_EQ(ls.st_gid, 98u);
    EXPECT_EQ(stdfs::read_symlink(root_ / "bin/link"), "/bin/tool");

    auto fs = lstat_of(root_ / "run/fifo");
    EXPECT_TRUE(S_ISFIFO(fs.st_mode));
    EXPECT_EQ(fs.st_mode & 07777, 0620u);
    EXPECT_EQ(lstat_of(root_ / "run").st_mode & 07777, 0755u) << "implicit parents are 0755";
    auto cs = lstat_of(root_ / "dev/null");
    EXPECT_TRUE(S_ISCHR(cs.st_mode));
    EXPECT_EQ(cs.st_rdev, makedev(1, 3));
    EXPECT_EQ(cs.st_mode & 07777, 0666u);
    auto bs = lstat_of(root_ / "dev/loop9");
    EXPECT_TRUE(S_ISBLK(bs.st_mode));
    EXPECT_EQ(bs.st_rdev, makedev(7, 9));
}

TEST_F(ApplyTest, FileCapabilitiesSurviveTheChown) {
    // security.capability v2: cap_net_bind_service (bit 10) permitted + effective. chown
    // clears it, so it must be set after the owner.
    std::string cap(20, '\0');
    cap[0] = 0x01;   // VFS_CAP_FLAGS_EFFECTIVE
    cap[3] = 0x02;   // VFS_CAP_REVISION_2
    cap[5] = 1 << 2; // permitted bit 10
    Entry f = file("ping", "elf", 0755);
    f.uid = 1000;
    f.gid = 1000;
    f.xattrs = {{"security.capability", cap}, {"user.note", "x"}};
    auto r = apply_bytes(tar_of({f}), root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    char buf[64];
    ssize_t n = ::getxattr((root_ / "ping").c_str(), "security.capability", buf, sizeof buf);
    ASSERT_EQ(n, 20) << std::strerror(errno);
    EXPECT_EQ(std::string(buf, 20), cap);
    EXPECT_EQ(lstat_of(root_ / "ping").st_uid, 1000u);
}

TEST_F(ApplyTest, OwnershipCanBeLeftToTheCaller) {
    Entry f = file("f", "x");
    f.uid = 4242;
    ApplyOptions opt;
    opt.preserve_ownership = false;
    ASSERT_TRUE(apply_bytes(tar_of({f}), root_, opt).ok());
    EXPECT_EQ(lstat_of(root_ / "f").st_uid, ::geteuid());
}

TEST_F(ApplyTest, CleanedNamesStayInside) {
    auto r = apply_bytes(tar_of({file("./a/../b", "1"), file("c//d/./e", "2"), dir("./")}), root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(read_file(root_ / "b"), "1");
    EXPECT_EQ(read_file(root_ / "c/d/e"), "2");
    EXPECT_FALSE(stdfs::exists(root_ / "a")) << "a/.. never needed a directory";
    EXPECT_EQ(r->ignored, 1u) << "the root entry is ignored";
}

TEST_F(ApplyTest, NamesAreBytes) {
    // UTF-8 in a pax header, and a Latin-1 byte in a plain ustar name: both kept as bytes.
    std::string tar = tar_of({file("caf\xc3\xa9/na\xc3\xafve.txt", "u")});
    tar = tar.substr(0, tar.size() - 1024) + raw_header("\xe9t\xe9", '0', "00000000000") +
          std::string(1024, '\0');
    auto r = apply_bytes(tar, root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(read_file(root_ / "caf\xc3\xa9/na\xc3\xafve.txt"), "u");
    EXPECT_TRUE(stdfs::exists(root_ / "\xe9t\xe9"));
}

TEST_F(ApplyTest, LargeAndSparseFiles) {
    std::string big = random_bytes(5 << 20, 7);
    // 8 MiB file with data at 1 MiB and at the end, holes elsewhere.
    Entry sp;
    sp.name = "sparse";
    sp.data.assign(8 << 20, '\0');
    std::string chunk = random_bytes(4096, 9);
    sp.data.replace(1 << 20, chunk.size(), chunk);
    sp.data.replace((8 << 20) - 4096, chunk.size(), chunk);
    sp.sparse = {{1 << 20, 4096}, {(8 << 20) - 4096, 4096}};
    Entry tail_hole = sp;
    tail_hole.name = "tailhole";
    tail_hole.data.assign(4 << 20, '\0');
    tail_hole.data.replace(0, chunk.size(), chunk);
    tail_hole.sparse = {{0, 4096}};
    std::string tar = tar_of({file("big", big), sp, tail_hole});
    EXPECT_LT(tar.size(), std::size_t(6 << 20)) << "the writer stored the files sparse";
    auto r = apply_bytes(tar, root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(read_file(root_ / "big"), big);
    EXPECT_EQ(read_file(root_ / "sparse"), sp.data);
    EXPECT_EQ(read_file(root_ / "tailhole"), tail_hole.data);
    EXPECT_LT(lstat_of(root_ / "sparse").st_blocks * 512, 1 << 20) << "holes stay holes";
}

TEST_F(ApplyTest, ExistingEntriesAreReplacedAndDirectoriesMerged) {
    ASSERT_TRUE(apply_bytes(tar_of({dir("d", 0700), file("d/keep", "k"), file("f2d", "file"),
                                    dir("d2f"), file("d2f/child", "c"), symlink("s", "d")}),
                            root_)
                    .ok());
    Entry d = dir("d", 0755);
    d.uid = 11;
    auto r =
        apply_bytes(tar_of({d, dir("f2d"), file("d2f", "now a file"), file("s", "plain")}), root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(read_file(root_ / "d/keep"), "k") << "directories merge";
    EXPECT_EQ(lstat_of(root_ / "d").st_mode & 07777, 0755u);
    EXPECT_EQ(lstat_of(root_ / "d").st_uid, 11u);
    EXPECT_TRUE(S_ISDIR(lstat_of(root_ / "f2d").st_mode));
    EXPECT_EQ(read_file(root_ / "d2f"), "now a file");
    EXPECT_TRUE(S_ISREG(lstat_of(root_ / "s").st_mode)) << "the symlink itself is replaced";
    EXPECT_EQ(read_file(root_ / "d/keep"), "k") << "...not what it pointed at";
}

TEST_F(ApplyTest, WhiteoutsRemove) {
    ASSERT_TRUE(apply_bytes(tar_of({file("a", "1"), dir("d"), file("d/x", "2"), file("d/y", "3"),
                                    file("keep", "4")}),
                            root_)
                    .ok());
    auto r = apply_bytes(tar_of({file(".wh.a", ""), file(".wh.d", ""), file(".wh.missing", ""),
                                 file("gone/.wh.x", "")}),
                         root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->whiteouts, 4u);
    EXPECT_FALSE(stdfs::exists(root_ / "a"));
    EXPECT_FALSE(stdfs::exists(root_ / "d"));
    EXPECT_FALSE(stdfs::exists(root_ / ".wh.a"));
    EXPECT_FALSE(stdfs::exists(root_ / "gone")) << "Remove mode creates no parents for whiteouts";
    EXPECT_TRUE(stdfs::exists(root_ / "keep"));
}

TEST_F(ApplyTest, OpaqueDirectoryKeepsOnlyThisLayersEntries) {
    ASSERT_TRUE(apply_bytes(tar_of({dir("d"), file("d/old1", "1"), dir("d/sub"),
                                    file("d/sub/old2", "2"), file("outside", "o")}),
                            root_)
                    .ok());
    // The marker may come before or after the entries of the same layer.
    auto r = apply_bytes(tar_of({dir("d"), file("d/new1", "n"), dir("d/sub"),
                                 file("d/.wh..wh..opq", ""), file("d/new2", "m")}),
                         root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->opaques, 1u);
    EXPECT_TRUE(stdfs::exists(root_ / "d/new1"));
    EXPECT_TRUE(stdfs::exists(root_ / "d/new2"));
    EXPECT_TRUE(stdfs::is_directory(root_ / "d/sub")) << "re-created by this layer: kept";
    EXPECT_FALSE(stdfs::exists(root_ / "d/old1"));
    EXPECT_FALSE(stdfs::exists(root_ / "d/sub/old2")) << "kept directories are searched too";
    EXPECT_FALSE(stdfs::exists(root_ / "d/.wh..wh..opq"));
    EXPECT_TRUE(stdfs::exists(root_ / "outside"));
}

TEST_F(ApplyTest, OverlayUpperWhiteoutsBecomeDevicesAndXattrs) {
    stdfs::path lower = tmp_.path() / "lower";
    stdfs::create_directories(lower / "etc/conf.d");
    ::chmod((lower / "etc").c_str(), 0710);
    ASSERT_EQ(::chown((lower / "etc").c_str(), 42, 43), 0);
    ASSERT_EQ(::setxattr((lower / "etc").c_str(), "user.lower", "yes", 3, 0), 0);
    ASSERT_EQ(::setxattr((lower / "etc").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);

    Entry wh = file("etc/.wh.passwd", "");
    wh.uid = 5;
    wh.gid = 6;
    ApplyOptions opt;
    opt.whiteouts = WhiteoutMode::OverlayUpper;
    opt.lower_dirs = {lower};
    auto r = apply_bytes(tar_of({wh, file("etc/conf.d/.wh..wh..opq", ""), file("new/x", "x")}),
                         root_, opt);
    ASSERT_TRUE(r.ok()) << r.error().message();

    auto st = lstat_of(root_ / "etc/passwd");
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
    EXPECT_EQ(st.st_uid, 5u);
    EXPECT_EQ(st.st_gid, 6u);
    EXPECT_FALSE(stdfs::exists(root_ / "etc/.wh.passwd"));
    EXPECT_EQ(xattr_of(root_ / "etc/conf.d", "trusted.overlay.opaque"), "y");

    auto es = lstat_of(root_ / "etc");
    EXPECT_EQ(es.st_mode & 07777, 0710u) << "missing parent copied from the lower";
    EXPECT_EQ(es.st_uid, 42u);
    EXPECT_EQ(es.st_gid, 43u);
    EXPECT_EQ(xattr_of(root_ / "etc", "user.lower"), "yes");
    EXPECT_EQ(xattr_of(root_ / "etc", "trusted.overlay.opaque"), "<none>")
        << "trusted.* is not copied up";
    EXPECT_EQ(lstat_of(root_ / "new").st_mode & 07777, 0755u) << "not in any lower: 0755";
}

TEST_F(ApplyTest, OverlayUpperWhiteoutsNeedNoDevicePermission) {
    ApplyOptions opt;
    opt.whiteouts = WhiteoutMode::OverlayUpper;
    opt.devices = DeviceNodes::Refuse;
    ASSERT_TRUE(apply_bytes(tar_of({file(".wh.x", "")}), root_, opt).ok());
    EXPECT_TRUE(S_ISCHR(lstat_of(root_ / "x").st_mode));
}

TEST_F(ApplyTest, DeviceNodesCanBeSkipped) {
    ApplyOptions opt;
    opt.devices = DeviceNodes::Skip;
    auto r = apply_bytes(tar_of({node("dev/sda", AE_IFBLK, 8, 0), file("f", "")}), root_, opt);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->ignored, 1u);
    EXPECT_FALSE(stdfs::exists(root_ / "dev/sda"));
}

TEST_F(ApplyTest, EmptyStreamsAreEmptyLayers) {
    auto r = apply_bytes("", root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->entries, 0u);
    auto r2 = apply_bytes(std::string(1024, '\0'), root_);
    ASSERT_TRUE(r2.ok()) << r2.error().message();
    EXPECT_EQ(r2->entries, 0u);
}

TEST_F(ApplyTest, TrailingBytesAreDrained) {
    std::string tar = tar_of({file("a", "1")}) + std::string(3 << 20, '\0');
    auto r = apply_bytes(tar, root_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_GT(r->trailing_bytes, 0);
}

TEST_F(ApplyTest, LayerStreamReportsTheDiffId) {
    std::string tar = tar_of({file("a", random_bytes(3 << 20)), file("b", "x")});
    for (bool pipelined : {false, true}) {
        for (auto packed : {gzip(tar, 3), zstd(tar), tar}) {
            stdfs::remove_all(root_ / "a");
            stdfs::remove_all(root_ / "b");
            LayerStreamOptions lo;
            lo.pipelined = pipelined;
            lo.pipeline.chunk_size = 64 * 1024;
            auto ls = LayerStream::open(std::make_unique<SpanSource>(packed), lo);
            ASSERT_TRUE(ls.ok());
            auto r = apply_layer(**ls, root_);
            ASSERT_TRUE(r.ok()) << r.error().message();
            EXPECT_EQ((*ls)->digest(), sha256(tar));
            EXPECT_EQ((*ls)->size(), std::int64_t(tar.size()));
            EXPECT_EQ(read_file(root_ / "b"), "x");
        }
    }
}

TEST_F(ApplyTest, CancelStopsTheApply) {
    std::atomic<bool> cancel{true};
    ApplyOptions opt;
    opt.cancel = &cancel;
    auto r = apply_bytes(tar_of({file("a", "1")}), root_, opt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::Canceled);
}

} // namespace
} // namespace gantry::archive
