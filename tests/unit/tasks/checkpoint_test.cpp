#include "runtime/runc/options.pb.h"
#include "services/tasks/checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

namespace gantry::services::checkpoint {
namespace {

namespace fsys = std::filesystem;

// What CRIU 3.17 logs on kernel 6.18 before it gives up.
constexpr std::string_view kDumpLog =
    "(00.000219) Version: 3.17.1 (gitid 0)\n"
    "(00.180485) vdso: nbucket 3 nchain e bucket 7fe8d2006128\n"
    "(00.180499) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
    "(00.180502) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n"
    "(00.180504) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed\n";

TEST(CheckpointService, CriuErrorsAreTheFirstErrorLinesWithoutLocations) {
    EXPECT_EQ(criu_errors(kDumpLog),
              "vdso: Unexpected rt vDSO area bounds; vdso: Failed to fill self vdso symtable");
    EXPECT_EQ(criu_errors(kDumpLog, 1), "vdso: Unexpected rt vDSO area bounds");
    EXPECT_EQ(criu_errors("(00.1) Version: 3.17.1\n"), "");
    EXPECT_EQ(criu_errors(""), "");
}

TEST(CheckpointService, TheRuncShimsMessageGetsCriusFirstErrors) {
    auto dir = TempDir::make(fsys::temp_directory_path(), "ckpt-unit-");
    ASSERT_TRUE(dir.ok()) << dir.error().message();
    const fsys::path log = dir->path() / "criu-dump.log";
    std::ofstream(log) << kDumpLog;
    // containerd-shim-runc-v2's words, with the dump log it kept in the bundle.
    Error shim(Errc::Unknown, "runc did not terminate successfully: exit status 1: criu failed: "
                              "type DUMP errno 0 path= " +
                                  log.string());
    Error e = explain_failure(shim, "web");
    EXPECT_EQ(e.code(), Errc::Unknown);
    EXPECT_EQ(e.message(), "checkpoint task web: CRIU failed: " + shim.message() +
                               ": CRIU: vdso: Unexpected rt vDSO area bounds; vdso: Failed to "
                               "fill self vdso symtable");
    // Gantry's shim quotes CRIU already: nothing is read or added twice.
    Error ours(Errc::Unknown, "OCI runtime checkpoint failed: runc checkpoint failed: criu failed: "
                              "type DUMP errno 0: CRIU: vdso: x (CRIU log: " +
                                  log.string() + ")");
    EXPECT_EQ(explain_failure(ours, "web").message(),
              "checkpoint task web: CRIU failed: " + ours.message());
    // Not CRIU's fault: said as it is, code kept.
    Error other(Errc::NotFound, "container not created");
    EXPECT_EQ(explain_failure(other, "web").message(),
              "checkpoint task web: container not created");
    EXPECT_EQ(explain_failure(other, "web").code(), Errc::NotFound);
}

TEST(CheckpointService, TempDirGoesWithItsContents) {
    fsys::path kept;
    {
        auto dir = TempDir::make(fsys::temp_directory_path() / "ckpt-unit-base", "checkpoint-");
        ASSERT_TRUE(dir.ok()) << dir.error().message();
        kept = dir->path();
        EXPECT_TRUE(kept.filename().string().starts_with("checkpoint-"));
        fsys::create_directories(kept / "a/b");
        std::ofstream(kept / "a/b/pages.img") << "x";
        TempDir moved(std::move(*dir)); // the moved-from one removes nothing
        EXPECT_TRUE(fsys::exists(kept / "a/b/pages.img"));
    }
    EXPECT_FALSE(fsys::exists(kept));
    fsys::remove_all(fsys::temp_directory_path() / "ckpt-unit-base");
}

TEST(CheckpointService, ImageAndRestorePathsFromRuncOptions) {
    containerd::runc::v1::CheckpointOptions co;
    co.set_image_path("/keep/here");
    auto p = requested_image_path("containerd.runc.v1.CheckpointOptions", co.SerializeAsString());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, "/keep/here");
    p = requested_image_path("types.containerd.io/containerd.runc.v1.CheckpointOptions", "");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, "");
    // Other shims' options are theirs: passed through, never read here.
    p = requested_image_path("example.com/other.Options", "\xff");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, "");
    p = requested_image_path("containerd.runc.v1.CheckpointOptions", std::string("\xff\xff", 2));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code(), Errc::InvalidArgument);

    containerd::runc::v1::Options o;
    o.set_criu_image_path("/restore/from");
    auto r = requested_restore_path("containerd.runc.v1.Options", o.SerializeAsString());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "/restore/from");
    r = requested_restore_path("runtimeoptions.v1.Options", "x");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "");
}

} // namespace
} // namespace gantry::services::checkpoint
