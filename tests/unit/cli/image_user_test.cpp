// image_user: passwd/group parsing as runc's libcontainer/user parses, containerd's WithUser and
// WithAdditionalGIDs rules, and reading inside a root that tries to escape (symlinks absolute,
// climbing, looping, through /proc; FIFOs and directories where files should be).
#include "cmd/gantry/image_user.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::cli {
namespace {

namespace stdfs = std::filesystem;

constexpr const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\n"
                                "  app:x:1234:2345:app:/home/app:/bin/sh  \n"
                                "\n"
                                "short:x:77\n"
                                "badnum:x:abc:-5\n";
constexpr const char* kGroup = "root:x:0:\n"
                               "appgrp:x:2345:\n"
                               "# extra:x:9999:app\n"
                               "extra:x:3456:app,other\n"
                               "app:x:5555:app\n" // named like the user: never supplementary
                               "more:x:4567:root,app\n";

class Root {
public:
    Root() {
        char tmpl[] = "/tmp/image-user-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        stdfs::create_directories(dir_ / "etc");
    }
    ~Root() {
        std::error_code ec;
        stdfs::remove_all(dir_, ec);
    }
    void write(const std::string& rel, const std::string& text) const {
        stdfs::create_directories((dir_ / rel).parent_path());
        std::ofstream(dir_ / rel) << text;
    }
    void link(const std::string& rel, const std::string& target) const {
        stdfs::create_directories((dir_ / rel).parent_path());
        stdfs::create_symlink(target, dir_ / rel);
    }
    const stdfs::path& dir() const { return dir_; }
    ContainerRoot open() const {
        auto r = ContainerRoot::open(dir_);
        EXPECT_TRUE(r.ok());
        return std::move(r).value();
    }

private:
    stdfs::path dir_;
};

std::vector<std::uint32_t> gids(std::initializer_list<std::uint32_t> v) {
    return v;
}

TEST(ImageUserParse, PasswdFieldsLikeRunc) {
    const auto users = parse_passwd(kPasswd);
    ASSERT_EQ(users.size(), 4u);
    EXPECT_EQ(users[1].name, "app");
    EXPECT_EQ(users[1].uid, 1234);
    EXPECT_EQ(users[1].gid, 2345);
    EXPECT_EQ(users[2].name, "short");
    EXPECT_EQ(users[2].uid, 77);
    EXPECT_EQ(users[2].gid, 0);
    EXPECT_EQ(users[3].uid, 0) << "a number that does not parse is 0";
    EXPECT_EQ(users[3].gid, -5);
}

TEST(ImageUserParse, GroupSkipsCommentsAndSplitsMembers) {
    const auto groups = parse_group(kGroup);
    ASSERT_EQ(groups.size(), 5u);
    EXPECT_EQ(groups[2].name, "extra");
    EXPECT_EQ(groups[2].members, (std::vector<std::string>{"app", "other"}));
    EXPECT_TRUE(groups[0].members.empty());
}

class ImageUserTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_.write("etc/passwd", kPasswd);
        root_.write("etc/group", kGroup);
    }
    ProcessUser resolve(const std::string& user) {
        auto r = resolve_user(root_.open(), user);
        EXPECT_TRUE(r.ok()) << user << ": " << (r.ok() ? "" : r.error().message());
        return r.ok() ? *r : ProcessUser{};
    }
    Root root_;
};

TEST_F(ImageUserTest, WithUserForms) {
    auto u = resolve("app");
    EXPECT_EQ(u.uid, 1234u);
    EXPECT_EQ(u.gid, 2345u);
    EXPECT_EQ(u.additional_gids, gids({2345}));
    u = resolve("1234");
    EXPECT_EQ(u.gid, 2345u) << "a known uid takes its passwd gid";
    u = resolve("4321");
    EXPECT_EQ(u.uid, 4321u);
    EXPECT_EQ(u.gid, 0u) << "an unknown uid gets gid 0";
    u = resolve("app:extra");
    EXPECT_EQ(u.uid, 1234u);
    EXPECT_EQ(u.gid, 3456u);
    u = resolve("1234:more");
    EXPECT_EQ(u.gid, 4567u);
    u = resolve("app:7");
    EXPECT_EQ(u.gid, 7u);
    u = resolve("5:6");
    EXPECT_EQ(u.uid, 5u);
    EXPECT_EQ(u.gid, 6u);
}

TEST_F(ImageUserTest, UnknownNamesAndBadFormsAreErrors) {
    const auto root = root_.open();
    auto r = resolve_user(root, "nosuch");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().is(Errc::NotFound));
    EXPECT_EQ(r.error().message(), "user nosuch: no such user in the image's /etc/passwd");
    r = resolve_user(root, "app:nosuch");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "group nosuch: no such group in the image's /etc/group");
    r = resolve_user(root, "-1");
    EXPECT_FALSE(r.ok()) << "out of range uids are names";
    r = resolve_user(root, "2147483648");
    EXPECT_FALSE(r.ok()) << "above MaxInt32 is a name";
    r = resolve_user(root, "a:b:c");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().is(Errc::InvalidArgument));
}

TEST_F(ImageUserTest, SupplementaryGroups) {
    auto u = image_process_user(root_.open(), "app");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->additional_gids, gids({2345, 3456, 4567}))
        << "primary first, then groups listing app, not the group named app";
    u = image_process_user(root_.open(), "");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->uid, 0u);
    EXPECT_EQ(u->additional_gids, gids({0, 4567}));
    u = image_process_user(root_.open(), "4321");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->additional_gids, gids({0}));
    u = image_process_user(root_.open(), "app:extra");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->additional_gids, gids({3456, 4567})) << "gid already among them: not repeated";
}

TEST(ImageUserFiles, MissingFiles) {
    Root root;
    auto u = image_process_user(root.open(), "");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->additional_gids, gids({0}));
    u = image_process_user(root.open(), "1000");
    ASSERT_TRUE(u.ok()) << "a numeric user needs no /etc/passwd";
    EXPECT_EQ(u->gid, 0u);
    auto named = resolve_user(root.open(), "app");
    ASSERT_FALSE(named.ok());
    EXPECT_EQ(named.error().message(), "user app: the image has no /etc/passwd");
    root.write("etc/passwd", kPasswd);
    named = resolve_user(root.open(), "app:grp");
    ASSERT_FALSE(named.ok());
    EXPECT_EQ(named.error().message(), "group grp: the image has no /etc/group");
}

TEST(ImageUserFiles, SymlinksResolveInsideTheRoot) {
    // The host has /etc/passwd with root in it; each link below would reach it (or another
    // host path) if followed outside the root.
    Root root;
    root.write("real/passwd", "app:x:1234:2345::/:/bin/sh\n");
    root.link("etc/passwd", "/real/passwd");
    auto u = resolve_user(root.open(), "app");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->uid, 1234u);

    Root climbing;
    climbing.write("real/passwd", "app:x:1234:2345::/:/bin/sh\n");
    climbing.link("etc/passwd", "../../../../../../../../../../real/passwd");
    u = resolve_user(climbing.open(), "app");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->uid, 1234u);

    Root loop;
    loop.link("etc/passwd", "/etc/passwd");
    u = resolve_user(loop.open(), "root");
    ASSERT_FALSE(u.ok()) << "the host's /etc/passwd must not be read";
    EXPECT_TRUE(u.error().is(Errc::InvalidArgument));

    Root host_dir;
    stdfs::remove(host_dir.dir() / "etc");
    host_dir.link("etc", "/etc");
    u = resolve_user(host_dir.open(), "root");
    ASSERT_FALSE(u.ok()) << "/etc -> /etc is the root's own /etc: a loop, not the host's";

    Root magic;
    magic.link("etc/passwd", "/proc/self/root/etc/passwd");
    u = resolve_user(magic.open(), "root");
    EXPECT_FALSE(u.ok()) << "no /proc inside the root: the host's passwd must not be read";
}

TEST(ImageUserFiles, OnlyRegularFilesAreRead) {
    Root fifo;
    ASSERT_EQ(::mkfifo((fifo.dir() / "etc/passwd").c_str(), 0600), 0);
    auto u = resolve_user(fifo.open(), "app");
    ASSERT_FALSE(u.ok()) << "a FIFO must neither block nor be read";
    EXPECT_TRUE(u.error().is(Errc::InvalidArgument));
    EXPECT_NE(u.error().message().find("not a regular file"), std::string::npos);

    Root dir;
    stdfs::create_directories(dir.dir() / "etc/passwd");
    EXPECT_FALSE(resolve_user(dir.open(), "app").ok());

    Root huge;
    huge.write("etc/passwd", std::string(17u << 20, 'x'));
    u = resolve_user(huge.open(), "app");
    ASSERT_FALSE(u.ok()) << "an account file larger than 16 MiB is refused, not read";
    EXPECT_NE(u.error().message().find("larger than 16 MiB"), std::string::npos);
}

} // namespace
} // namespace gantry::cli
