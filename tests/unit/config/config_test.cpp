#include "core/config/config.hpp"

#include <gtest/gtest.h>

namespace gantry::config {
namespace {

std::string error_of(std::string_view text) {
    auto cfg = parse_config(text, "/etc/gantry/config.toml");
    EXPECT_FALSE(cfg.ok()) << text;
    if (cfg.ok()) return "";
    EXPECT_EQ(cfg.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(cfg.error().message().find('\n'), std::string::npos) << "one line";
    return cfg.error().message();
}

TEST(Config, DefaultsAreContainerdLike) {
    auto cfg = parse_config("", "");
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(cfg->root, "/var/lib/gantry");
    EXPECT_EQ(cfg->state, "/run/gantry");
    EXPECT_EQ(cfg->grpc.address, "/run/gantry/gantryd.sock");
    EXPECT_EQ(cfg->grpc.max_recv_message_size, 16 << 20);
    EXPECT_TRUE(cfg->disabled_plugins.empty());
    EXPECT_TRUE(cfg->metrics_address.empty());
}

TEST(Config, ReadsEveryTopLevelKey) {
    auto cfg = parse_config(R"(
version = 2
root = "/r"
state = "/s"
plugin_dir = "/p"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs"]
[grpc]
address = "/s/g.sock"
gid = 5
[metrics]
address = "127.0.0.1:1338"
[debug]
level = "debug"
format = "json"
)",
                            "c.toml");
    ASSERT_TRUE(cfg.ok()) << cfg.error().message();
    EXPECT_EQ(cfg->root, "/r");
    EXPECT_EQ(cfg->plugin_dir, "/p");
    EXPECT_EQ(cfg->grpc.address, "/s/g.sock");
    EXPECT_EQ(cfg->grpc.gid, 5);
    EXPECT_EQ(cfg->metrics_address, "127.0.0.1:1338");
    EXPECT_EQ(cfg->log_level, "debug");
    EXPECT_EQ(cfg->log_format, "json");
    ASSERT_EQ(cfg->disabled_plugins.size(), 1u);
}

TEST(Config, MalformedFileNamesFileLineAndColumn) {
    auto msg = error_of("version = 2\nroot = \"/x\n");
    EXPECT_EQ(msg.rfind("/etc/gantry/config.toml:2:", 0), 0u) << msg;
}

TEST(Config, UnknownTopLevelKeyNamesFileLineAndKey) {
    auto msg = error_of("version = 2\n\nrooot = \"/x\"\n");
    EXPECT_EQ(msg, "/etc/gantry/config.toml:3: unknown key \"rooot\"");
}

TEST(Config, UnknownNestedKeyNamesItsTable) {
    auto msg = error_of("[grpc]\naddress = \"/a.sock\"\nadress = \"/b.sock\"\n");
    EXPECT_EQ(msg, "/etc/gantry/config.toml:3: unknown key \"adress\" in [grpc]");
}

TEST(Config, WrongTypesAreErrors) {
    EXPECT_NE(error_of("root = 5\n").find("root: expected a string"), std::string::npos);
    EXPECT_NE(error_of("disabled_plugins = \"x\"\n").find("expected an array"), std::string::npos);
    EXPECT_NE(error_of("grpc = 1\n").find("expected a table"), std::string::npos);
    EXPECT_NE(error_of("[debug]\nlevel = \"loud\"\n").find("level"), std::string::npos);
}

TEST(Config, VersionAndPathsAreChecked) {
    EXPECT_NE(error_of("version = 1\n").find("only version 2"), std::string::npos);
    EXPECT_NE(error_of("root = \"relative\"\n").find("absolute"), std::string::npos);
}

TEST(Config, RenderedDefaultsParseBackToTheSame) {
    auto cfg = parse_config("", "");
    ASSERT_TRUE(cfg.ok());
    auto again = parse_config(render_top_level(*cfg), "rendered");
    ASSERT_TRUE(again.ok()) << again.error().message();
    EXPECT_EQ(again->root, cfg->root);
    EXPECT_EQ(again->grpc.address, cfg->grpc.address);
    EXPECT_EQ(again->grpc.max_send_message_size, cfg->grpc.max_send_message_size);
}

TEST(Config, MissingExplicitFileIsAnErrorButMissingDefaultIsNot) {
    EXPECT_TRUE(load_config("/nonexistent/gantry.toml", false).ok());
    auto r = load_config("/nonexistent/gantry.toml", true);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("/nonexistent/gantry.toml"), std::string::npos);
}

} // namespace
} // namespace gantry::config
