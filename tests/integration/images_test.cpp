// Images through a real gantryd: created over raw gRPC, listed, labelled, tagged and removed by
// `ctr images` and `gantry images`; bad inputs get containerd's codes and keep what is stored.
#include "services/images/v1/images.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <sstream>

namespace gantry::itest {
namespace {

namespace imv1 = containerd::services::images::v1;

constexpr char kDigest[] =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char kManifest[] = "application/vnd.oci.image.manifest.v1+json";

class ImagesTest : public SharedDaemonTest<ImagesTest> {
protected:
    std::unique_ptr<imv1::Images::Stub> stub() {
        return imv1::Images::NewStub(channel(d().socket()));
    }

    imv1::Image image(const std::string& name) {
        imv1::Image img;
        img.set_name(name);
        img.mutable_target()->set_digest(kDigest);
        img.mutable_target()->set_size(528);
        img.mutable_target()->set_media_type(kManifest);
        return img;
    }

    grpc::Status create(const imv1::Image& img, const std::string& ns = "default") {
        imv1::CreateImageRequest req;
        *req.mutable_image() = img;
        imv1::CreateImageResponse resp;
        return stub()->Create(context(ns).get(), req, &resp);
    }
};

TEST_F(ImagesTest, CreatedImageIsListedByCtrAndGantry) {
    auto img = image("docker.io/library/listed:1");
    (*img.mutable_labels())["team"] = "a";
    ASSERT_TRUE(create(img, "lst").ok());

    auto q = d().ctr({"images", "ls", "-q"}, "lst");
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_EQ(q.out, "docker.io/library/listed:1\n");

    // ctr also reads content for SIZE/PLATFORMS; without the blob it logs an error per image
    // and still lists it.
    auto ls = d().ctr({"images", "ls"}, "lst");
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(contains(ls.out, "docker.io/library/listed:1")) << ls.out;
    EXPECT_TRUE(contains(ls.out, kDigest)) << ls.out;
    EXPECT_TRUE(contains(ls.out, "team=a")) << ls.out;

    auto g = d().gantry({"images", "ls"}, "lst");
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_TRUE(contains(g.out, "REF ")) << g.out;
    // The data row, column by column: no content for this digest, so SIZE and PLATFORMS are "-".
    std::istringstream rows(g.out.substr(g.out.find('\n') + 1));
    std::vector<std::string> cells{std::istream_iterator<std::string>(rows), {}};
    EXPECT_EQ(cells, (std::vector<std::string>{"docker.io/library/listed:1", kManifest, kDigest,
                                               "-", "-", "team=a"}))
        << g.out;

    auto gf = d().gantry({"images", "ls", "-q", "labels.team==b"}, "lst");
    ASSERT_EQ(gf.exit_code, 0) << gf.err;
    EXPECT_EQ(gf.out, "");
    auto cf = d().ctr({"images", "ls", "-q", "name~=listed"}, "lst");
    EXPECT_EQ(cf.out, "docker.io/library/listed:1\n");

    auto other = d().gantry({"images", "ls", "-q"}, "elsewhere");
    EXPECT_EQ(other.out, "");
}

TEST_F(ImagesTest, LabelWithCtrAndGantry) {
    ASSERT_TRUE(create(image("lbl:1"), "lbl").ok());
    auto l = d().ctr({"images", "label", "lbl:1", "a=1", "b=2"}, "lbl");
    ASSERT_EQ(l.exit_code, 0) << l.err;
    auto g = d().gantry({"images", "label", "lbl:1", "a="}, "lbl");
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(g.out, "b=2\n");
    imv1::GetImageRequest req;
    req.set_name("lbl:1");
    imv1::GetImageResponse resp;
    ASSERT_TRUE(stub()->Get(context("lbl").get(), req, &resp).ok());
    EXPECT_EQ(resp.image().labels().size(), 1u);
    EXPECT_EQ(resp.image().labels().at("b"), "2");
    EXPECT_EQ(resp.image().target().digest(), kDigest);
}

TEST_F(ImagesTest, TagAndRemove) {
    ASSERT_TRUE(create(image("src:1"), "tag").ok());
    auto g = d().gantry({"images", "tag", "src:1", "dst:1", "dst:2"}, "tag");
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(g.out, "dst:1\ndst:2\n");
    auto again = d().gantry({"images", "tag", "src:1", "dst:1"}, "tag");
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_TRUE(contains(again.err, "already exists")) << again.err;
    EXPECT_EQ(d().gantry({"images", "tag", "--force", "src:1", "dst:1"}, "tag").exit_code, 0);

    // ctr's tag takes a lease first; it works once the leases service is there.
    auto ct = d().ctr({"images", "tag", "src:1", "ctr:1"}, "tag");
    if (ct.exit_code == 0) EXPECT_EQ(ct.out, "ctr:1\n");

    auto rm = d().ctr({"images", "rm", "dst:1"}, "tag");
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(rm.out, "dst:1\n");
    auto grm = d().gantry({"images", "rm", "--sync", "dst:2", "missing"}, "tag");
    EXPECT_EQ(grm.exit_code, 0) << grm.err;
    EXPECT_EQ(grm.out, "dst:2\n");
    EXPECT_TRUE(contains(grm.err, "missing: image not found")) << grm.err;
    auto ls = d().gantry({"images", "ls", "-q"}, "tag");
    EXPECT_TRUE(contains(ls.out, "src:1\n")) << ls.out;
    EXPECT_FALSE(contains(ls.out, "dst:")) << ls.out;

    imv1::DeleteImageRequest del;
    del.set_name("dst:1");
    google::protobuf::Empty empty;
    auto st = stub()->Delete(context("tag").get(), del, &empty);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(st.error_message(), "image \"dst:1\": not found");
}

TEST_F(ImagesTest, BadInputsAreRefusedAndKeepWhatIsStored) {
    ASSERT_TRUE(create(image("keep:1"), "bad").ok());

    imv1::Image no_target;
    no_target.set_name("t:1");
    auto st = create(no_target, "bad");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();

    auto bad_digest = image("t:2");
    bad_digest.mutable_target()->set_digest("sha256:xyz");
    st = create(bad_digest, "bad");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(contains(st.error_message(), "Target.Digest")) << st.error_message();

    auto zero = image("t:3");
    zero.mutable_target()->set_size(0);
    EXPECT_EQ(create(zero, "bad").error_code(), grpc::StatusCode::INVALID_ARGUMENT);

    st = create(image(""), "bad");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), "Image.Name required");

    st = create(image("keep:1"), "bad");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_EQ(st.error_message(), "image \"keep:1\": already exists");

    st = create(image("nohdr:1"), "");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

    imv1::UpdateImageRequest up;
    *up.mutable_image() = image("keep:1");
    up.mutable_update_mask()->add_paths("bogus");
    imv1::UpdateImageResponse uresp;
    st = stub()->Update(context("bad").get(), up, &uresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    up.mutable_image()->set_name("absent");
    up.clear_update_mask();
    st = stub()->Update(context("bad").get(), up, &uresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);

    imv1::ListImagesRequest lr;
    lr.add_filters("name==\"unterminated");
    imv1::ListImagesResponse lresp;
    st = stub()->List(context("bad").get(), lr, &lresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

    auto ls = d().ctr({"images", "ls", "-q"}, "bad");
    EXPECT_EQ(ls.out, "keep:1\n");
}

// Writes `data` into <dir>/blobs/sha256/ under its digest (sha256sum, so no hashing code here).
std::string put_blob(const std::string& dir, const std::string& data) {
    const std::string tmp = dir + "/blob.tmp";
    std::ofstream(tmp, std::ios::binary) << data;
    auto sum = run({"sha256sum", tmp});
    const std::string hex = sum.out.substr(0, 64);
    std::filesystem::rename(tmp, dir + "/blobs/sha256/" + hex);
    return "sha256:" + hex;
}

// With content in the store (imported by the real `ctr`), SIZE and PLATFORMS come from the
// blobs, and gantry's listing is byte-identical to ctr's, for a manifest and an index target.
TEST_F(ImagesTest, ListingWithContentMatchesCtr) {
    TempDir t;
    const std::string oci = t.path() + "/oci";
    std::filesystem::create_directories(oci + "/blobs/sha256");
    const std::string layer(1024, '\0'); // an empty tar
    const std::string ld = put_blob(oci, layer);
    const std::string cfg = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                            R"("diff_ids":[")" +
                            ld + R"("]}})";
    const std::string cd = put_blob(oci, cfg);
    const std::string man =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
        cd + R"(","size":)" + std::to_string(cfg.size()) +
        R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + ld +
        R"(","size":1024}]})";
    const std::string md = put_blob(oci, man);
    std::ofstream(oci + "/oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
    std::ofstream(oci + "/index.json")
        << R"({"schemaVersion":2,"manifests":[{"mediaType":")" << kManifest << R"(","digest":")"
        << md << R"(","size":)" << man.size()
        << R"(,"annotations":{"io.containerd.image.name":"example.com/sized:1"},)"
        << R"("platform":{"os":"linux","architecture":"amd64"}}]})";
    const std::string tar = t.path() + "/img.tar";
    ASSERT_EQ(run({"tar", "-C", oci, "-cf", tar, "oci-layout", "index.json", "blobs"}).exit_code,
              0);
    auto imp = d().ctr(
        {"images", "import", "--no-unpack", "--index-name", "example.com/idx:1", tar}, "sized");
    if (imp.exit_code != 0) GTEST_SKIP() << "content or import not available yet: " << imp.err;

    auto c = d().ctr({"images", "ls"}, "sized");
    auto g = d().gantry({"images", "ls"}, "sized");
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(g.out, c.out);
    EXPECT_TRUE(contains(g.out, "example.com/sized:1")) << g.out;
    EXPECT_TRUE(contains(g.out, "example.com/idx:1")) << g.out;
    // Sizes (manifest + config + layer, plus the index) were checked against ctr's above.
    EXPECT_TRUE(contains(g.out, " KiB linux/amd64 ")) << g.out;
    auto check = d().gantry({"images", "check", "-q"}, "sized");
    EXPECT_EQ(check.out, "example.com/idx:1\nexample.com/sized:1\n");
}

} // namespace
} // namespace gantry::itest
