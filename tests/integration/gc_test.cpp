// Garbage collection through gantryd: content written under a lease lives as long as the lease,
// `leases rm --sync` returns after the collection, blobs shared by namespaces stay on disk while
// any namespace holds them, and gc.root keeps a blob without any lease.
#include "services/content/v1/content.grpc.pb.h"
#include "services/leases/v1/leases.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <filesystem>
#include <gtest/gtest.h>

namespace gantry::itest {
namespace {

namespace content_v1 = containerd::services::content::v1;
namespace leases_v1 = containerd::services::leases::v1;

constexpr const char* kData = "gc test blob\n";

class GcTest : public SharedDaemonTest<GcTest> {
protected:
    void create_lease(const std::string& ns, const std::string& id) {
        auto stub = leases_v1::Leases::NewStub(channel(d().socket()));
        leases_v1::CreateRequest req;
        req.set_id(id);
        leases_v1::CreateResponse resp;
        auto st = stub->Create(context(ns).get(), req, &resp);
        ASSERT_TRUE(st.ok()) << st.error_message();
    }

    // Writes `data` under `lease` (empty: no lease header) with `labels`; returns the digest.
    std::string write(const std::string& ns, const std::string& lease, const std::string& ref,
                      const std::string& data, std::map<std::string, std::string> labels = {}) {
        auto stub = content_v1::Content::NewStub(channel(d().socket()));
        auto ctx = context(ns);
        if (!lease.empty()) ctx->AddMetadata("containerd-lease", lease);
        auto stream = stub->Write(ctx.get());
        content_v1::WriteContentRequest req;
        content_v1::WriteContentResponse resp;
        req.set_action(content_v1::WRITE);
        req.set_ref(ref);
        req.set_offset(0);
        req.set_data(data);
        EXPECT_TRUE(stream->Write(req) && stream->Read(&resp));
        req.Clear();
        req.set_action(content_v1::COMMIT);
        req.set_ref(ref);
        req.set_total(static_cast<std::int64_t>(data.size()));
        req.set_offset(static_cast<std::int64_t>(data.size()));
        req.mutable_labels()->insert(labels.begin(), labels.end());
        EXPECT_TRUE(stream->Write(req) && stream->Read(&resp));
        stream->WritesDone();
        auto st = stream->Finish();
        EXPECT_TRUE(st.ok()) << st.error_message();
        return resp.digest();
    }

    std::filesystem::path blob_path(const std::string& digest) {
        return std::filesystem::path(d().root()) / "io.containerd.content.v1.content" / "blobs" /
               "sha256" / digest.substr(7);
    }
    bool listed(const std::string& ns, const std::string& digest) {
        auto ls = d().ctr({"content", "ls", "-q"}, ns);
        EXPECT_EQ(ls.exit_code, 0) << ls.err;
        return contains(ls.out, digest);
    }
};

TEST_F(GcTest, LeaseRemovalWithSyncCollectsItsContent) {
    create_lease("gc1", "l1");
    const std::string digest = write("gc1", "l1", "ref-1", kData);
    ASSERT_FALSE(digest.empty());
    ASSERT_TRUE(listed("gc1", digest));
    ASSERT_TRUE(std::filesystem::exists(blob_path(digest)));
    auto rm = d().ctr({"leases", "rm", "--sync", "l1"}, "gc1");
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_FALSE(listed("gc1", digest));
    EXPECT_FALSE(std::filesystem::exists(blob_path(digest)));
}

TEST_F(GcTest, SharedBlobStaysWhileAnotherNamespaceHoldsIt) {
    create_lease("gc-a", "la");
    create_lease("gc-b", "lb");
    const std::string digest = write("gc-a", "la", "ref-a", "shared blob\n");
    ASSERT_EQ(write("gc-b", "lb", "ref-b", "shared blob\n"), digest);
    auto rm_b = d().gantry({"leases", "rm", "--sync", "lb"}, "gc-b");
    ASSERT_EQ(rm_b.exit_code, 0) << rm_b.err;
    EXPECT_FALSE(listed("gc-b", digest));
    EXPECT_TRUE(listed("gc-a", digest));
    EXPECT_TRUE(std::filesystem::exists(blob_path(digest)));
    auto cat = d().ctr({"content", "get", digest}, "gc-a");
    EXPECT_EQ(cat.out, "shared blob\n");
    auto rm_a = d().gantry({"leases", "rm", "--sync", "la"}, "gc-a");
    ASSERT_EQ(rm_a.exit_code, 0) << rm_a.err;
    EXPECT_FALSE(listed("gc-a", digest));
    EXPECT_FALSE(std::filesystem::exists(blob_path(digest)));
}

TEST_F(GcTest, GcRootKeepsABlobWithoutALease) {
    create_lease("gc3", "l3");
    const std::string root =
        write("gc3", "l3", "ref-root", "rooted\n", {{"containerd.io/gc.root", "yes"}});
    const std::string plain = write("gc3", "l3", "ref-plain", "plain\n");
    auto rm = d().ctr({"leases", "rm", "--sync", "l3"}, "gc3");
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_TRUE(listed("gc3", root));
    EXPECT_TRUE(std::filesystem::exists(blob_path(root)));
    EXPECT_FALSE(listed("gc3", plain));
    EXPECT_FALSE(std::filesystem::exists(blob_path(plain)));
}

} // namespace
} // namespace gantry::itest
