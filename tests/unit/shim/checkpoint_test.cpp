// The shim's checkpoint/restore logic that needs no CRIU: CheckpointOptions decoding, the runtime
// flags they map to (runc's names), restore's arguments and reading CRIU's log back.
#include "shims/gantry-shim/checkpoint.hpp"
#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/runtime.hpp"
#include "shims/gantry-shim/util.hpp"

#include <gtest/gtest.h>

using namespace gantry::shim;
using Args = std::vector<std::string>;

TEST(ShimCheckpoint, EveryOptionMapsToItsRuncFlag) {
    pb::Writer o;
    o.boolean(1, true); // exit: no --leave-running
    o.boolean(2, true);
    o.boolean(3, true);
    o.boolean(4, true);
    o.boolean(5, true);
    o.str(6, "network");
    o.str(6, "ipc");
    o.str(7, "soft");
    o.str(8, "/ignored/image");
    o.str(9, "/w");
    CheckpointOptions co;
    ASSERT_EQ(
        decodeCheckpointOptions(any("containerd.runc.v1.CheckpointOptions", o.data()).data(), co),
        "");
    EXPECT_EQ(co.imagePath, "/ignored/image");
    EXPECT_EQ(co.workPath, "/w");
    EXPECT_EQ(checkpointArgs(co, "/img", co.workPath, "c1"),
              (Args{"checkpoint", "--image-path", "/img", "--work-path", "/w", "--tcp-established",
                    "--ext-unix-sk", "--shell-job", "--file-locks", "--empty-ns", "network",
                    "--empty-ns", "ipc", "--manage-cgroups-mode", "soft", "c1"}));
}

TEST(ShimCheckpoint, DefaultsLeaveTheContainerRunning) {
    CheckpointOptions co;
    EXPECT_EQ(decodeCheckpointOptions("", co), "");
    EXPECT_EQ(checkpointArgs(co, "/img", "/work", "c1"),
              (Args{"checkpoint", "--image-path", "/img", "--work-path", "/work", "--leave-running",
                    "c1"}));
    // An Any with the type URL's full prefix, as typeurl writes it, and no fields.
    EXPECT_EQ(decodeCheckpointOptions(
                  any("types.containerd.io/containerd.runc.v1.CheckpointOptions", "").data(), co),
              "");
    EXPECT_FALSE(co.exit);
}

TEST(ShimCheckpoint, WrongOptionTypesAreRefused) {
    CheckpointOptions co;
    auto e = decodeCheckpointOptions(any("containerd.runc.v1.Options", "").data(), co);
    EXPECT_NE(e.find("unsupported type containerd.runc.v1.Options"), std::string::npos) << e;
    EXPECT_NE(decodeCheckpointOptions(std::string("\x0a\x09", 2), co), "");
}

TEST(ShimCheckpoint, RestoreArguments) {
    RestoreParams p{"/img", "/work", "/b", "/b/init.pid", "", false};
    EXPECT_EQ(restoreArgs(p, "c1"),
              (Args{"restore", "--detach", "--image-path", "/img", "--work-path", "/work",
                    "--bundle", "/b", "--pid-file", "/b/init.pid", "c1"}));
    p.workPath.clear();
    p.consoleSocket = "/tmp/console.sock";
    p.noPivot = true;
    EXPECT_EQ(restoreArgs(p, "c1"),
              (Args{"restore", "--detach", "--image-path", "/img", "--bundle", "/b", "--pid-file",
                    "/b/init.pid", "--console-socket", "/tmp/console.sock", "--no-pivot", "c1"}));
}

TEST(ShimCheckpoint, RestoreWorkPathComesFromTheRuncOptions) {
    pb::Writer o;
    o.str(11, "/criu-work");
    RuntimeOptions ro;
    EXPECT_EQ(decodeOptions(any("containerd.runc.v1.Options", o.data()).data(), ro), "");
    EXPECT_EQ(ro.criuWorkPath, "/criu-work");
}

TEST(ShimCheckpoint, CriuLogErrorsWithoutTheirSourceLocations) {
    // The start of what CRIU 3.17 logs on this kernel (kernel 6.18, vDSO layout it does not know).
    const std::string log = "(00.000219) Version: 3.17.1 (gitid 0)\n"
                            "(00.180485) vdso: nbucket 3 nchain e\n"
                            "(00.180499) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area "
                            "bounds\n"
                            "(00.180502) Error (criu/vdso.c:613): vdso: Failed to fill self vdso "
                            "symtable\n"
                            "(00.180504) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable "
                            "failed when initializing kerndat.\n";
    EXPECT_EQ(criuErrorsFromText(log),
              "vdso: Unexpected rt vDSO area bounds; vdso: Failed to fill self vdso symtable");
    EXPECT_EQ(criuErrorsFromText(log, 1), "vdso: Unexpected rt vDSO area bounds");
    EXPECT_EQ(criuErrorsFromText("(00.1) all fine\n"), "");
    EXPECT_EQ(criuErrors("/nonexistent/dump.log"), "");
}
