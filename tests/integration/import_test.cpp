// Importing images: `ctr images import --no-unpack` and `gantry images import --no-unpack` of the
// two-layer OCI archive from ../shared/bench/mkimage.py (and a `docker save` archive made from
// it), then the listings, the gc.ref labels, the lease that is gone afterwards, and removal with
// --sync that leaves no content behind.
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <filesystem>
#include <gtest/gtest.h>

namespace gantry::itest {
namespace {

constexpr const char* kImage = "docker.io/library/bartest:latest";

class ImportTest : public SharedDaemonTest<ImportTest> {
protected:
    static void SetUpTestSuite() {
        SharedDaemonTest::SetUpTestSuite();
        archive_ = daemon_->dir() + "/bartest.tar";
        auto made = run({"python3", GANTRY_TEST_MKIMAGE, archive_});
        ASSERT_EQ(made.exit_code, 0) << made.err;
    }
    static std::string archive_;

    std::vector<std::string> lines(const std::string& s) {
        std::vector<std::string> out;
        std::size_t start = 0;
        while (start < s.size()) {
            auto end = s.find('\n', start);
            if (end == std::string::npos) end = s.size();
            if (end > start) out.push_back(s.substr(start, end - start));
            start = end + 1;
        }
        return out;
    }
    std::size_t blobs_on_disk() {
        const auto dir =
            std::filesystem::path(d().root()) / "io.containerd.content.v1.content/blobs/sha256";
        if (!std::filesystem::exists(dir)) return 0;
        return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                                      std::filesystem::directory_iterator()));
    }
    void expect_imported(const std::string& ns) {
        auto images = d().ctr({"images", "ls", "-q"}, ns);
        ASSERT_EQ(images.exit_code, 0) << images.err;
        EXPECT_EQ(images.out, std::string(kImage) + "\n");
        // Manifest, config and two layers. The index was held only by the import's lease, so the
        // collection that followed the lease's removal took it, as in containerd.
        auto content = d().ctr({"content", "ls"}, ns);
        ASSERT_EQ(content.exit_code, 0) << content.err;
        EXPECT_EQ(lines(content.out).size(), 5u) << content.out;
        EXPECT_TRUE(contains(content.out, "containerd.io/gc.ref.content.config=sha256:"))
            << content.out;
        EXPECT_TRUE(contains(content.out, "containerd.io/gc.ref.content.l.0=sha256:"))
            << content.out;
        EXPECT_TRUE(contains(content.out, "containerd.io/gc.ref.content.l.1=sha256:"))
            << content.out;
        // The import's lease is gone.
        auto leases = d().ctr({"leases", "ls", "-q"}, ns);
        EXPECT_EQ(leases.out, "");
        // A collection keeps everything the image references.
        auto gc = d().ctr({"leases", "create", "--id", "tmp"}, ns);
        ASSERT_EQ(gc.exit_code, 0) << gc.err;
        ASSERT_EQ(d().ctr({"leases", "rm", "--sync", "tmp"}, ns).exit_code, 0);
        EXPECT_EQ(lines(d().ctr({"content", "ls", "-q"}, ns).out).size(), 4u);
    }
};
std::string ImportTest::archive_;

TEST_F(ImportTest, CtrImportsAnOciArchive) {
    auto imp = d().ctr({"images", "import", "--no-unpack", archive_}, "imp-ctr");
    ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
    expect_imported("imp-ctr");
    auto rm = d().ctr({"images", "rm", "--sync", kImage}, "imp-ctr");
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(d().ctr({"content", "ls", "-q"}, "imp-ctr").out, "");
}

TEST_F(ImportTest, GantryImportsAnOciArchiveAndCtrSeesIt) {
    auto imp = d().gantry({"images", "import", "--no-unpack", archive_}, "imp-g");
    ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
    EXPECT_EQ(imp.out, std::string(kImage) + "\n");
    expect_imported("imp-g");
    // Importing again updates the image in place.
    auto again = d().gantry({"images", "import", "--no-unpack", "--index-name", "idx", "--digests",
                             "--base-name", "docker.io/library/bartest", archive_},
                            "imp-g");
    ASSERT_EQ(again.exit_code, 0) << again.err;
    auto names = lines(d().ctr({"images", "ls", "-q"}, "imp-g").out);
    EXPECT_EQ(names.size(), 3u); // the image, idx, and bartest@sha256:...
    // --index-name keeps the index, with its gc.ref label to the manifest.
    auto content = d().ctr({"content", "ls"}, "imp-g");
    EXPECT_EQ(lines(content.out).size(), 6u) << content.out;
    EXPECT_TRUE(contains(content.out, "containerd.io/gc.ref.content.m.0=sha256:")) << content.out;
    for (const auto& n : names)
        ASSERT_EQ(d().ctr({"images", "rm", "--sync", n}, "imp-g").exit_code, 0) << n;
    EXPECT_EQ(d().ctr({"content", "ls", "-q"}, "imp-g").out, "");
}

TEST_F(ImportTest, GantryImportsADockerSaveArchive) {
    // Repack the OCI archive the way `docker save` lays it out.
    const std::string docker_tar = d().dir() + "/docker.tar";
    const std::string script =
        "import json,tarfile,io,sys\n"
        "src=tarfile.open(sys.argv[1]);f={m.name:src.extractfile(m).read() for m in "
        "src.getmembers() if m.isfile()}\n"
        "idx=json.loads(f['index.json']);man=json.loads(f['blobs/sha256/'+idx['manifests'][0]["
        "'digest'][7:]])\n"
        "b=lambda d:f['blobs/sha256/'+d[7:]]\n"
        "out=tarfile.open(sys.argv[2],'w')\n"
        "def add(p,data):\n "
        "ti=tarfile.TarInfo(p);ti.size=len(data);out.addfile(ti,io.BytesIO(data))\n"
        "cfg=man['config']['digest'][7:]+'.json';add(cfg,b(man['config']['digest']))\n"
        "layers=[]\n"
        "for i,l in enumerate(man['layers']):\n "
        "p='l%d/layer.tar'%i;add(p,b(l['digest']));layers.append(p)\n"
        "add('manifest.json',json.dumps([{'Config':cfg,'RepoTags':['dsave:v1'],'Layers':layers}])."
        "encode())\n";
    auto made = run({"python3", "-c", script, archive_, docker_tar});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    auto imp = d().gantry({"images", "import", "--no-unpack", docker_tar}, "imp-d");
    ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
    EXPECT_EQ(imp.out, "docker.io/library/dsave:v1\n");
    auto content = d().ctr({"content", "ls"}, "imp-d");
    // The manifest written for it, config and two layers (the index went with the lease).
    EXPECT_EQ(lines(content.out).size(), 5u) << content.out;
    EXPECT_TRUE(contains(content.out, "containerd.io/gc.ref.content.config=sha256:"))
        << content.out;
    auto check = d().ctr({"images", "check"}, "imp-d");
    EXPECT_TRUE(contains(check.out, "docker.io/library/dsave:v1")) << check.out << check.err;
    ASSERT_EQ(d().ctr({"images", "rm", "--sync", "docker.io/library/dsave:v1"}, "imp-d").exit_code,
              0);
    EXPECT_EQ(d().ctr({"content", "ls", "-q"}, "imp-d").out, "");
}

TEST_F(ImportTest, BadArchivesAreRefusedAndImportNothing) {
    auto bad = d().gantry({"images", "import", "--no-unpack", d().dir() + "/missing.tar"}, "imp-u");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_TRUE(contains(bad.err, "missing.tar")) << bad.err;
    auto not_tar = d().gantry({"images", "import", "--no-unpack", "/etc/os-release"}, "imp-u");
    EXPECT_EQ(not_tar.exit_code, 1);
    EXPECT_TRUE(contains(not_tar.err, "gantry: /etc/os-release: not a tar archive")) << not_tar.err;
    EXPECT_EQ(d().ctr({"leases", "ls", "-q"}, "imp-u").out, "");
}

TEST_F(ImportTest, NothingLingersOnDiskOnceEveryNamespaceRemovedTheImage) {
    ASSERT_EQ(d().ctr({"images", "import", "--no-unpack", archive_}, "imp-x").exit_code, 0);
    ASSERT_EQ(d().gantry({"images", "import", "--no-unpack", archive_}, "imp-y").exit_code, 0);
    ASSERT_EQ(d().ctr({"images", "rm", "--sync", kImage}, "imp-x").exit_code, 0);
    EXPECT_EQ(blobs_on_disk(), 4u); // still used by imp-y
    ASSERT_EQ(d().ctr({"images", "rm", "--sync", kImage}, "imp-y").exit_code, 0);
    EXPECT_EQ(blobs_on_disk(), 0u);
}

} // namespace
} // namespace gantry::itest
