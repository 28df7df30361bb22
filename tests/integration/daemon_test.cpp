// gantryd as a process: start, stop, refusals, config errors, plugin loading.
#include "tests/integration/harness.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace gantry::itest {
namespace {

int lines(const std::string& s) {
    int n = 0;
    for (char c : s)
        n += c == '\n';
    return n;
}

TEST(Daemon, StartsServesAndStopsCleanlyOnSigterm) {
    Daemon d;
    ASSERT_GT(d.pid(), 0) << d.log();
    struct stat st {};
    ASSERT_EQ(::stat(d.socket().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    auto v = d.gantry({"version"});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    EXPECT_EQ(d.stop(), 0) << d.log();
    EXPECT_NE(::access(d.socket().c_str(), F_OK), 0) << "socket removed on clean stop";
    EXPECT_TRUE(contains(d.log(), "level=info msg=\"gantryd serving on")) << d.log();
}

TEST(Daemon, CreatesMissingSocketDirectoryWith0711) {
    TempDir t;
    std::string sock = t.path() + "/new/dir/g.sock";
    auto out = run({bin("gantryd"), "--root", t.path() + "/r", "--state", t.path() + "/st",
                    "--address", sock, "--log-level", "error"},
                   {}, std::chrono::seconds(2)); // killed by the timeout once it serves
    struct stat st {};
    ASSERT_EQ(::stat((t.path() + "/new/dir").c_str(), &st), 0) << out.err;
    EXPECT_EQ(st.st_mode & 0777, 0711u);
}

TEST(Daemon, SecondDaemonOnSameRootRefuses) {
    Daemon first;
    ASSERT_GT(first.pid(), 0);
    auto out = run({bin("gantryd"), "--root", first.root(), "--state", first.dir() + "/state2",
                    "--address", first.dir() + "/s/other.sock"});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(contains(out.err, "another gantryd (pid " + std::to_string(first.pid()) +
                                      ") is running on root " + first.root()))
        << out.err;
    EXPECT_EQ(first.gantry({"version"}).exit_code, 0) << "first daemon unharmed";
}

TEST(Daemon, SocketOfLiveDaemonIsNeverTaken) {
    Daemon first;
    ASSERT_GT(first.pid(), 0);
    TempDir other;
    auto out = run({bin("gantryd"), "--root", other.path() + "/root", "--state",
                    other.path() + "/state", "--address", first.socket()});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(contains(out.err, "is in use by a live daemon")) << out.err;
    EXPECT_EQ(first.gantry({"version"}).exit_code, 0) << "first daemon still answers";
}

TEST(Daemon, StaleSocketIsReplaced) {
    Daemon d(Daemon::Options{.start_now = false});
    std::string sock = d.socket();
    {
        // A socket file with nobody listening: what a SIGKILLed daemon leaves behind.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, sock.c_str());
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ::close(fd);
    }
    ASSERT_TRUE(d.start()) << d.log();
    EXPECT_EQ(d.gantry({"version"}).exit_code, 0);
}

TEST(Daemon, PathThatIsNotASocketIsRefused) {
    TempDir t;
    std::string path = t.path() + "/notasocket";
    std::ofstream(path) << "precious data";
    auto out = run({bin("gantryd"), "--root", t.path() + "/r", "--state", t.path() + "/st",
                    "--address", path});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(contains(out.err, "exists and is not a socket")) << out.err;
    std::ifstream in(path);
    std::string kept;
    std::getline(in, kept);
    EXPECT_EQ(kept, "precious data");
}

TEST(Daemon, OverlongSocketPathIsRefused) {
    TempDir t;
    std::string path = t.path() + "/" + std::string(120, 'x') + ".sock";
    auto out = run({bin("gantryd"), "--root", t.path() + "/r", "--state", t.path() + "/st",
                    "--address", path});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(contains(out.err, "limit of a unix socket path")) << out.err;
}

TEST(Daemon, MalformedConfigIsOneLineNamingFileAndLine) {
    TempDir t;
    std::string cfg = t.path() + "/bad.toml";
    std::ofstream(cfg) << "version = 2\nroot = \"/x\n";
    auto out = run({bin("gantryd"), "--config", cfg});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_EQ(lines(out.err), 1) << out.err;
    EXPECT_TRUE(contains(out.err, cfg + ":2:")) << out.err;
}

TEST(Daemon, UnknownConfigKeyIsOneLineNamingFileLineAndKey) {
    TempDir t;
    std::string cfg = t.path() + "/bad.toml";
    std::ofstream(cfg) << "version = 2\n[grpc]\naddres = \"/x.sock\"\n";
    auto out = run({bin("gantryd"), "--config", cfg});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_EQ(out.err, "gantryd: " + cfg + ":3: unknown key \"addres\" in [grpc]\n");
}

TEST(Daemon, UnknownKeyInPluginSectionIsRefused) {
    TempDir t;
    std::string cfg = t.path() + "/bad.toml";
    std::ofstream(cfg)
        << "version = 2\n[plugins.\"io.containerd.internal.v1.metrics\"]\nport = 1\n";
    auto out = run({bin("gantryd"), "--config", cfg, "--root", t.path() + "/r", "--state",
                    t.path() + "/st", "--address", t.path() + "/g.sock"});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(contains(out.err, cfg + ":3: unknown key \"port\"")) << out.err;
}

TEST(Daemon, MissingExplicitConfigIsAnError) {
    auto out = run({bin("gantryd"), "--config", "/nonexistent/gantry.toml"});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(contains(out.err, "/nonexistent/gantry.toml")) << out.err;
}

TEST(Daemon, UnreadablePluginDirIsAnError) {
    TempDir t;
    auto out = run({bin("gantryd"), "--root", t.path() + "/r", "--state", t.path() + "/st",
                    "--address", t.path() + "/g.sock", "--plugin-dir", "/nonexistent/plugins"});
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(contains(out.err, "plugin directory /nonexistent/plugins")) << out.err;
}

TEST(Daemon, CorruptPluginIsListedAsErrorAndTheRestServe) {
    TempDir plugins;
    std::filesystem::copy_file(bin("../lib/gantry/plugins/metrics.so"),
                               plugins.path() + "/metrics.so");
    std::ofstream(plugins.path() + "/broken.so") << "definitely not an ELF object";
    Daemon d(Daemon::Options{.extra_args = {"--plugin-dir", plugins.path()}});
    ASSERT_GT(d.pid(), 0) << d.log();
    auto ls = d.ctr({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(contains(ls.out, "broken.so")) << ls.out;
    auto detail = d.gantry({"plugins", "ls", "-d", "id==broken.so"});
    EXPECT_TRUE(contains(detail.out, "cannot load shared object")) << detail.out << detail.err;
    EXPECT_TRUE(contains(ls.out, "io.containerd.internal.v1")) << "metrics.so still loaded";
}

TEST(Daemon, DisabledPluginIsNotLoaded) {
    Daemon d(Daemon::Options{
        .config_text =
            "version = 2\ndisabled_plugins = [\"io.containerd.internal.v1.metrics\"]\n"});
    ASSERT_GT(d.pid(), 0) << d.log();
    auto ls = d.ctr({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0);
    EXPECT_FALSE(contains(ls.out, "metrics")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "introspection")) << ls.out;
}

TEST(Daemon, ConfigDefaultIsValidAndDumpShowsEffectiveValues) {
    auto def = run({bin("gantryd"), "config", "default"});
    ASSERT_EQ(def.exit_code, 0) << def.err;
    EXPECT_TRUE(contains(def.out, "root = \"/var/lib/gantry\"")) << def.out;
    EXPECT_TRUE(contains(def.out, "address = \"/run/gantry/gantryd.sock\"")) << def.out;
    TempDir t;
    std::ofstream(t.path() + "/default.toml") << def.out;
    auto dump = run({bin("gantryd"), "--config", t.path() + "/default.toml", "--root", "/srv/g",
                     "config", "dump"});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_TRUE(contains(dump.out, "root = \"/srv/g\"")) << dump.out;
}

TEST(Daemon, HelpExplainsFlags) {
    auto h = run({bin("gantryd"), "--help"});
    EXPECT_EQ(h.exit_code, 0);
    for (const char* flag :
         {"--config", "--root", "--state", "--address", "--log-level", "--plugin-dir"})
        EXPECT_TRUE(contains(h.out, flag)) << flag;
}

} // namespace
} // namespace gantry::itest
