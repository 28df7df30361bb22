// What Prepare's copy must preserve (snapshotters/native/copy.hpp), checked on the copied tree.
#include "snapshotters/native/copy.hpp"

#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace gantry::snapshots::native {
namespace {

namespace stdfs = std::filesystem;

class CopyTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (owners, device nodes)";
        std::string pattern = "/var/tmp/gantry-copy-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        src_ = dir_ / "src";
        dst_ = dir_ / "dst";
        stdfs::create_directories(src_);
        stdfs::create_directories(dst_);
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) stdfs::remove_all(dir_, ec);
    }
    static struct stat lst(const stdfs::path& p) {
        struct stat st {};
        EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
        return st;
    }
    stdfs::path dir_, src_, dst_;
};

TEST_F(CopyTest, PreservesEverythingAFilesystemLayerCarries) {
    std::ofstream(src_ / "file") << "content";
    ASSERT_EQ(::chown((src_ / "file").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::chmod((src_ / "file").c_str(), 04751), 0);
    ASSERT_EQ(::setxattr((src_ / "file").c_str(), "user.test", "v", 1, 0), 0);
    ASSERT_EQ(::setxattr((src_ / "file").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    struct timespec times[2] = {{1000000, 5}, {2000000, 7}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (src_ / "file").c_str(), times, 0), 0);

    ASSERT_EQ(::link((src_ / "file").c_str(), (src_ / "hard").c_str()), 0);
    stdfs::create_symlink("file", src_ / "sym");
    stdfs::create_symlink("/etc/passwd", src_ / "abs");
    ASSERT_EQ(::lchown((src_ / "sym").c_str(), 42, 43), 0);
    ASSERT_EQ(::mknod((src_ / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::mknod((src_ / "fifo").c_str(), S_IFIFO | 0600, 0), 0);
    stdfs::create_directories(src_ / "d" / "e");
    ASSERT_EQ(::chmod((src_ / "d").c_str(), 0710), 0);
    ASSERT_EQ(::utimensat(AT_FDCWD, (src_ / "d").c_str(), times, 0), 0);
    ASSERT_EQ(::chmod(src_.c_str(), 0750), 0);
    std::ofstream(src_ / "empty");

    ASSERT_TRUE(copy_tree(src_, dst_).ok());

    auto f = lst(dst_ / "file");
    EXPECT_EQ(f.st_uid, 1234u);
    EXPECT_EQ(f.st_gid, 5678u);
    EXPECT_EQ(f.st_mode & 07777, 04751u);
    EXPECT_EQ(f.st_mtim.tv_sec, 2000000);
    EXPECT_EQ(f.st_mtim.tv_nsec, 7);
    EXPECT_EQ(f.st_atim.tv_sec, 1000000);
    char v[8] = {};
    EXPECT_EQ(::getxattr((dst_ / "file").c_str(), "user.test", v, sizeof v), 1);
    EXPECT_EQ(v[0], 'v');
    EXPECT_EQ(::getxattr((dst_ / "file").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
    std::ifstream in(dst_ / "file");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "content");

    auto h = lst(dst_ / "hard");
    EXPECT_EQ(h.st_ino, f.st_ino) << "hard links stay hard links";
    EXPECT_EQ(h.st_nlink, 2u);

    auto s = lst(dst_ / "sym");
    EXPECT_TRUE(S_ISLNK(s.st_mode));
    EXPECT_EQ(s.st_uid, 42u);
    EXPECT_EQ(stdfs::read_symlink(dst_ / "sym"), "file");
    EXPECT_EQ(stdfs::read_symlink(dst_ / "abs"), "/etc/passwd");

    auto n = lst(dst_ / "null");
    EXPECT_TRUE(S_ISCHR(n.st_mode));
    EXPECT_EQ(n.st_rdev, makedev(1, 3));
    EXPECT_TRUE(S_ISFIFO(lst(dst_ / "fifo").st_mode));

    auto d = lst(dst_ / "d");
    EXPECT_EQ(d.st_mode & 07777, 0710u);
    EXPECT_EQ(d.st_mtim.tv_sec, 2000000) << "directory times are set after its children";
    EXPECT_TRUE(stdfs::is_directory(dst_ / "d" / "e"));
    EXPECT_EQ(lst(dst_).st_mode & 07777, 0750u);
    EXPECT_EQ(lst(dst_ / "empty").st_size, 0);
}

TEST_F(CopyTest, LargeFileDataIsIdentical) {
    std::string data(3 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>((i * 31) ^ (i >> 9));
    std::ofstream(src_ / "big", std::ios::binary) << data;
    ASSERT_TRUE(copy_tree(src_, dst_).ok());
    std::ifstream in(dst_ / "big", std::ios::binary);
    EXPECT_TRUE(std::string(std::istreambuf_iterator<char>(in), {}) == data);
}

TEST_F(CopyTest, MissingSourceIsNotFound) {
    auto st = copy_tree(dir_ / "missing", dst_);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::NotFound);
}

} // namespace
} // namespace gantry::snapshots::native
