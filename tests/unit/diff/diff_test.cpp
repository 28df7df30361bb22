// core/archive/diff: trees diffed into a layer and applied back (core/archive/apply) onto a
// copy of the lower must give the upper again, entry for entry. Runs as root (owners, device
// nodes, overlay mounts) in /var/tmp (ext4 here: user xattrs and overlay work).
#include "core/archive/apply.hpp"
#include "core/archive/compress.hpp"
#include "core/archive/decompress.hpp"
#include "core/archive/diff.hpp"
#include "core/mount/mount.hpp"
#include "tests/unit/diff/tree_snapshot.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace gantry::archive {
namespace {

using namespace gantry::testing;

class DiffTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (owners, devices, overlay)";
        std::string pattern = "/var/tmp/gantry-diff-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }
    void TearDown() override {
        if (root_.empty()) return;
        if (auto mps = mount::mount_points_under(root_); mps.ok())
            for (const auto& mp : *mps)
                ::umount2(mp.c_str(), MNT_DETACH);
        std::error_code ec;
        stdfs::remove_all(root_, ec);
    }

    stdfs::path dir(const std::string& name) {
        auto p = root_ / name;
        stdfs::create_directories(p);
        return p;
    }

    // cp -a: data, modes, owners, times, xattrs and hard links.
    stdfs::path copy_tree(const stdfs::path& from, const std::string& name) {
        auto to = root_ / name;
        std::string cmd = "cp -a '" + from.string() + "' '" + to.string() + "'";
        EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
        return to;
    }

    static std::string diff_to_string(const stdfs::path& lower, const stdfs::path& upper) {
        std::string tar;
        auto st = write_diff(lower, upper, [&](std::string_view b) {
            tar.append(b);
            return ok_status();
        });
        EXPECT_TRUE(st.ok()) << st.error().message();
        return tar;
    }

    static void apply_tar(const std::string& tar, const stdfs::path& root) {
        SpanSource src(std::span<const char>(tar.data(), tar.size()));
        ApplyOptions opts;
        opts.devices = DeviceNodes::Create;
        auto r = apply_layer(src, root, opts);
        ASSERT_TRUE(r.ok()) << r.error().message();
    }

    // Tar entry names in order, with hard-link targets ("a -> b").
    static std::vector<std::string> entries(const std::string& tar) {
        std::vector<std::string> out;
        struct archive* a = archive_read_new();
        archive_read_support_format_tar(a);
        EXPECT_EQ(archive_read_open_memory(a, tar.data(), tar.size()), ARCHIVE_OK);
        archive_entry* e = nullptr;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            std::string n = archive_entry_pathname(e);
            if (const char* h = archive_entry_hardlink(e)) n += std::string(" -> ") + h;
            out.push_back(n);
        }
        archive_read_free(a);
        return out;
    }

    // The lower tree every test starts from.
    stdfs::path make_lower() {
        auto l = dir("lower");
        write_file(l / "keep.txt", "keep");
        write_file(l / "mod.txt", "before");
        write_file(l / "meta.txt", "meta");
        write_file(l / "del.txt", "gone");
        write_file(l / "same-size.txt", "aaaa");
        set_mtime(l / "same-size.txt", 1'600'000'000, 0);
        stdfs::create_directories(l / "deldir/sub");
        write_file(l / "deldir/a", "a");
        write_file(l / "deldir/sub/b", "b");
        stdfs::create_directories(l / "repl");
        write_file(l / "repl/x", "x");
        write_file(l / "repl/y", "y");
        stdfs::create_directories(l / "partial");
        write_file(l / "partial/p", "p");
        write_file(l / "partial/q", "q");
        stdfs::create_symlink("keep.txt", l / "link");
        write_file(l / "hl1", "shared");
        stdfs::create_hard_link(l / "hl1", l / "hl2");
        write_file(l / "filetodir", "file");
        stdfs::create_directories(l / "dirtofile");
        write_file(l / "dirtofile/child", "c");
        stdfs::create_directories(l / "deep/er/est");
        write_file(l / "deep/er/est/leaf", "leaf");
        return l;
    }

    // Every kind of change, made in `u` (a copy of the lower or an overlay's merged view).
    void change(const stdfs::path& u) {
        write_file(u / "mod.txt", "after!");
        ::chmod((u / "meta.txt").c_str(), 0600);
        ASSERT_EQ(::chown((u / "meta.txt").c_str(), 1000, 1001), 0);
        stdfs::remove(u / "del.txt");
        stdfs::remove_all(u / "deldir");
        // Same size, same whole-second mtime, other bytes: only the content tells.
        write_file(u / "same-size.txt", "bbbb");
        set_mtime(u / "same-size.txt", 1'600'000'000, 0);
        stdfs::remove_all(u / "repl");
        stdfs::create_directories(u / "repl");
        write_file(u / "repl/z", "z");
        stdfs::remove(u / "partial/p");
        stdfs::remove(u / "link");
        stdfs::create_symlink("/abs/target/mod.txt", u / "link");
        ASSERT_EQ(::lchown((u / "link").c_str(), 7, 8), 0);
        stdfs::create_hard_link(u / "hl1", u / "hl3"); // joins an unchanged pair
        write_file(u / "nh1", "new pair");
        stdfs::create_hard_link(u / "nh1", u / "nh2");
        stdfs::remove(u / "filetodir");
        stdfs::create_directories(u / "filetodir");
        write_file(u / "filetodir/inside", "i");
        stdfs::remove_all(u / "dirtofile");
        write_file(u / "dirtofile", "now a file");
        write_file(u / "new.txt", "new", 0640);
        ASSERT_EQ(::chown((u / "new.txt").c_str(), 1234, 5678), 0);
        ASSERT_EQ(::setxattr((u / "new.txt").c_str(), "user.test", "hello", 5, 0), 0);
        set_mtime(u / "new.txt", 1'234'567'890, 123'456'789);
        write_file(u / "suid", "#!/bin/sh\n", 04755);
        ::chmod((u / "suid").c_str(), 04755);
        stdfs::create_directories(u / "newdir/deeper");
        write_file(u / "newdir/deeper/file", "deep");
        ::chmod((u / "newdir").c_str(), 0710);
        ASSERT_EQ(::setxattr((u / "newdir").c_str(), "user.dir", "d", 1, 0), 0);
        ASSERT_EQ(::mkfifo((u / "fifo").c_str(), 0620), 0);
        ASSERT_EQ(::mknod((u / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
        write_file(u / "deep/er/est/leaf2", "leaf2"); // parents written, unchanged themselves
        // A socket cannot travel in a layer: skipped (and left out of snapshots).
        int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa {};
        sa.sun_family = AF_UNIX;
        std::string sp = (u / "sock").string();
        ASSERT_LT(sp.size(), sizeof sa.sun_path);
        std::memcpy(sa.sun_path, sp.c_str(), sp.size() + 1);
        ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        ::close(sock);
    }

    stdfs::path root_;
};

TEST_F(DiffTest, RoundTripReproducesTheUpper) {
    auto lower = make_lower();
    auto upper = copy_tree(lower, "upper");
    change(upper);
    std::string tar = diff_to_string(lower, upper);
    auto result = copy_tree(lower, "result");
    apply_tar(tar, result);
    EXPECT_EQ(snapshot(result), snapshot(upper));
}

TEST_F(DiffTest, OutputIsDeterministicAndMinimal) {
    auto lower = make_lower();
    auto upper = copy_tree(lower, "upper");
    change(upper);
    std::string a = diff_to_string(lower, upper);
    std::string b = diff_to_string(lower, upper);
    EXPECT_EQ(a, b);
    auto names = entries(a);
    auto has = [&](const std::string& n) {
        return std::find(names.begin(), names.end(), n) != names.end();
    };
    // Unchanged entries are absent; parents of changed ones are present.
    EXPECT_FALSE(has("keep.txt"));
    EXPECT_FALSE(has("partial/q"));
    EXPECT_TRUE(has("deep/"));
    EXPECT_TRUE(has("deep/er/est/"));
    EXPECT_TRUE(has("deep/er/est/leaf2"));
    EXPECT_FALSE(has("deep/er/est/leaf"));
    // Deletions: a whiteout per name, one for a whole tree, an opaque marker for a replaced dir.
    EXPECT_TRUE(has(".wh.del.txt"));
    EXPECT_TRUE(has(".wh.deldir"));
    EXPECT_FALSE(has("deldir/.wh.a"));
    EXPECT_TRUE(has("partial/.wh.p"));
    EXPECT_TRUE(has("repl/.wh..wh..opq"));
    EXPECT_FALSE(has("repl/.wh.x"));
    EXPECT_TRUE(has("same-size.txt"));
    // The unchanged pair is re-linked to the new name that shares its inode.
    EXPECT_TRUE(has("hl3"));
    EXPECT_TRUE(has("hl1 -> hl3"));
    EXPECT_TRUE(has("hl2 -> hl3"));
    EXPECT_TRUE(has("nh2 -> nh1"));
    // Sorted walk: a directory comes before its children.
    auto pos = [&](const std::string& n) {
        return std::find(names.begin(), names.end(), n) - names.begin();
    };
    EXPECT_LT(pos("newdir/"), pos("newdir/deeper/"));
    EXPECT_LT(pos("newdir/deeper/"), pos("newdir/deeper/file"));
    EXPECT_LT(pos("mod.txt"), pos("new.txt"));
}

TEST_F(DiffTest, EmptyLowerAddsEverything) {
    auto lower = make_lower();
    std::string tar = diff_to_string("", lower);
    auto result = dir("result");
    apply_tar(tar, result);
    EXPECT_EQ(snapshot(result), snapshot(lower));
}

TEST_F(DiffTest, IdenticalTreesGiveAnEmptyLayer) {
    auto lower = make_lower();
    auto upper = copy_tree(lower, "upper");
    EXPECT_TRUE(entries(diff_to_string(lower, upper)).empty());
}

TEST_F(DiffTest, OverlayFastPathEqualsFullWalk) {
    auto lower = make_lower();
    auto upperdir = dir("ovl/upper");
    auto work = dir("ovl/work");
    auto merged = dir("ovl/merged");
    mount::Mount m{"overlay",
                   "overlay",
                   "",
                   {"index=off", "lowerdir=" + lower.string(), "upperdir=" + upperdir.string(),
                    "workdir=" + work.string()}};
    ASSERT_TRUE(mount::mount(m, merged).ok());
    change(merged);

    std::string full = diff_to_string(lower, merged);
    std::string fast;
    auto st = write_overlay_diff(lower, upperdir, [&](std::string_view b) {
        fast.append(b);
        return ok_status();
    });
    ASSERT_TRUE(st.ok()) << st.error().message();

    auto want = snapshot(merged);
    auto from_full = copy_tree(lower, "from-full");
    apply_tar(full, from_full);
    EXPECT_EQ(snapshot(from_full), want);
    auto from_fast = copy_tree(lower, "from-fast");
    apply_tar(fast, from_fast);
    EXPECT_EQ(snapshot(from_fast), want);
    // The fast path saw overlay's whiteouts and the opaque directory.
    auto names = entries(fast);
    EXPECT_NE(std::find(names.begin(), names.end(), ".wh.del.txt"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "repl/.wh..wh..opq"), names.end());
    EXPECT_EQ(std::find(names.begin(), names.end(), "keep.txt"), names.end());
}

TEST_F(DiffTest, OverlayRedirectFallsBackWithFailedPrecondition) {
    auto lower = make_lower();
    auto upperdir = dir("upper");
    stdfs::create_directories(upperdir / "moved");
    ASSERT_EQ(::setxattr((upperdir / "moved").c_str(), "trusted.overlay.redirect", "/repl", 5, 0),
              0);
    auto st = write_overlay_diff(lower, upperdir, [](std::string_view) { return ok_status(); });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::FailedPrecondition) << st.error().message();
}

TEST_F(DiffTest, SinkErrorStopsTheDiff) {
    auto lower = make_lower();
    auto st =
        write_diff("", lower, [](std::string_view) -> Status { return unavailable("disk full"); });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::Unavailable);
}

class CompressTest : public ::testing::TestWithParam<std::tuple<Compression, bool>> {
protected:
    Compression compression() const { return std::get<0>(GetParam()); }
    Result<std::unique_ptr<Compressor>> make(ByteSink out) const {
        return std::get<1>(GetParam())
                   ? Compressor::create_pipelined(compression(), std::move(out), 4096, 2)
                   : Compressor::create(compression(), std::move(out));
    }
};

TEST_P(CompressTest, RoundTripsThroughTheDecompressor) {
    std::string input;
    for (int i = 0; i < 200'000; ++i)
        input += std::to_string(i * 7919 % 1000) + ",";
    std::string packed;
    auto c = make([&](std::string_view b) {
        packed.append(b);
        return ok_status();
    });
    ASSERT_TRUE(c.ok());
    for (std::size_t off = 0; off < input.size(); off += 10'000) {
        ASSERT_TRUE((*c)->write(std::string_view(input).substr(off, 10'000)).ok());
    }
    ASSERT_TRUE((*c)->finish().ok());
    if (compression() != Compression::None) {
        EXPECT_LT(packed.size(), input.size() / 2);
    }
    EXPECT_EQ(detect_compression(std::span<const char>(packed.data(), 4)), compression());
    auto d = decompress(
        std::make_unique<SpanSource>(std::span<const char>(packed.data(), packed.size())),
        std::nullopt);
    ASSERT_TRUE(d.ok());
    std::string out;
    std::vector<char> buf(65536);
    for (;;) {
        auto n = (*d)->read(buf);
        ASSERT_TRUE(n.ok()) << n.error().message();
        if (*n == 0) break;
        out.append(buf.data(), *n);
    }
    EXPECT_EQ(out, input);
}

INSTANTIATE_TEST_SUITE_P(All, CompressTest,
                         ::testing::Combine(::testing::Values(Compression::None, Compression::Gzip,
                                                              Compression::Zstd),
                                            ::testing::Bool()));

TEST(PipelinedCompressor, ASinkErrorReachesTheProducer) {
    int calls = 0;
    auto c = Compressor::create_pipelined(
        Compression::None,
        [&](std::string_view) -> Status {
            return ++calls > 2 ? unavailable("disk full") : ok_status();
        },
        1024, 2);
    ASSERT_TRUE(c.ok());
    std::string block(1024, 'x');
    Status st = ok_status();
    for (int i = 0; i < 100 && st.ok(); ++i)
        st = (*c)->write(block);
    if (st.ok()) st = (*c)->finish();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::Unavailable);
}

TEST(PipelinedCompressor, DestroyedWithoutFinishStopsCleanly) {
    auto c = Compressor::create_pipelined(
        Compression::Gzip, [](std::string_view) { return ok_status(); }, 1024, 1);
    ASSERT_TRUE(c.ok());
    std::string block(10'000, 'y');
    ASSERT_TRUE((*c)->write(block).ok());
    c.value().reset();
}

} // namespace
} // namespace gantry::archive
