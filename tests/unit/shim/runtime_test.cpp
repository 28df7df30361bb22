#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/runtime.hpp"
#include "shims/gantry-shim/util.hpp"

#include <gtest/gtest.h>

using namespace gantry::shim;

TEST(ShimOptions, RuncOptionsAny) {
    pb::Writer o;
    o.boolean(1, true);
    o.str(3, "/shims");
    o.str(6, "/usr/bin/runsc --network=none");
    o.str(7, "/run/x");
    o.boolean(9, true);
    RuntimeOptions ro;
    EXPECT_EQ(decodeOptions(any("containerd.runc.v1.Options", o.data()).data(), ro), "");
    EXPECT_TRUE(ro.noPivotRoot);
    EXPECT_TRUE(ro.systemdCgroup);
    EXPECT_EQ(ro.shimCgroup, "/shims");
    EXPECT_EQ(ro.root, "/run/x");
    EXPECT_EQ(ro.command(), (std::vector<std::string>{"/usr/bin/runsc", "--network=none"}));
    // options.json round-trips what `delete` needs.
    RuntimeOptions back = RuntimeOptions::fromJson(ro.toJson());
    EXPECT_EQ(back.command(), ro.command());
    EXPECT_EQ(back.root, "/run/x");
}

TEST(ShimOptions, EmptyAndUnknownOptions) {
    RuntimeOptions ro;
    EXPECT_EQ(decodeOptions("", ro), "");
    EXPECT_EQ(ro.command(), std::vector<std::string>{"runc"});
    EXPECT_EQ(ro.toJson(), "{}");
    EXPECT_NE(decodeOptions(any("example.Other", "x").data(), ro), "");
    EXPECT_NE(decodeOptions(std::string("\x0a\x09", 2), ro), "");
}

TEST(ShimOptions, RuntimeConfigFile) {
    RuntimeOptions ro;
    EXPECT_EQ(
        parseConfigFile("# gVisor\n[options]\nBinaryName = \"/usr/bin/runsc\"\n"
                        "RuntimeArgs = [\"--network=none\", \"--debug\"]\nSystemdCgroup = false\n",
                        ro),
        "");
    EXPECT_EQ(ro.command(),
              (std::vector<std::string>{"/usr/bin/runsc", "--network=none", "--debug"}));
    EXPECT_NE(parseConfigFile("Bogus = 1\n", ro).find("unknown option Bogus"), std::string::npos);
    EXPECT_NE(parseConfigFile("no equals sign\n", ro), "");

    char tmpl[] = "/tmp/gantry-shim-cfg-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    ASSERT_TRUE(writeFile(tmpl, "BinaryName = \"crun\"\n"));
    pb::Writer rto;
    rto.str(2, tmpl);
    RuntimeOptions fromFile;
    EXPECT_EQ(decodeOptions(any("runtimeoptions.v1.Options", rto.data()).data(), fromFile), "");
    EXPECT_EQ(fromFile.command(), std::vector<std::string>{"crun"});
    unlink(tmpl);
    pb::Writer missing;
    missing.str(2, "/nonexistent/gantry.toml");
    EXPECT_NE(decodeOptions(any("runtimeoptions.v1.Options", missing.data()).data(), fromFile)
                  .find("cannot read"),
              std::string::npos);
}

TEST(ShimRuntime, ExitStatusAsContainerdReportsIt) {
    EXPECT_EQ(exitStatus(3 << 8), 3);
    EXPECT_EQ(exitStatus(9), 137); // killed by SIGKILL
}
