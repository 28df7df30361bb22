// Garbage collection of snapshots: records reachable from leases, containers, gc.root and
// gc.ref.snapshot labels are kept with their parent chains; the rest go from metadata, then
// their backend snapshots (leaves first), then the backend's cleanup() runs.
#include "core/gc/gc.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/leases.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/snapshots.hpp"
#include "fake_snapshotter.hpp"
#include "metadata_test_util.hpp"

#include <gtest/gtest.h>

namespace gantry::gc {
namespace {

namespace md = gantry::metadata;
namespace schema = gantry::metadata::schema;
using snapshots::testing::FakeSnapshotter;

class SnapshotGc : public ::testing::Test {
protected:
    void SetUp() override {
        auto d = md::Database::open(tmp_.path());
        ASSERT_TRUE(d.ok()) << d.error().message();
        db = std::make_shared<md::Database>(std::move(d).value());
        backend = std::make_shared<FakeSnapshotter>();
        store = std::make_shared<md::SnapshotStore>(db, "sn", backend);
    }

    // A committed chain ns: l1 <- l2 <- ... named as given; returns nothing.
    void chain(const std::string& ns, const std::vector<std::string>& layers,
               const md::Labels& top_labels = {}) {
        std::string parent;
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const std::string key = "extract-" + layers[i];
            ASSERT_TRUE(store->prepare(ns, "", key, parent, {}).ok());
            ASSERT_TRUE(store
                            ->commit(ns, "", layers[i], key,
                                     i + 1 == layers.size() ? top_labels : md::Labels{})
                            .ok());
            parent = layers[i];
        }
    }
    bool has(const std::string& ns, const std::string& key) { return store->stat(ns, key).ok(); }
    std::string bkey(const std::string& ns, const std::string& key) {
        auto r = db->view([&](const md::Txn& txn) {
            return md::get_value(txn, schema::snapshotter_bucket(ns, "sn").child(key),
                                 schema::kName);
        });
        return r.ok() && r->has_value() ? std::string(**r) : std::string();
    }
    Stats run(bool dirty = false) {
        SnapshotBackend sb{"sn", backend, &store->gc_lock(), dirty};
        auto s = collect(*db, nullptr, std::span<const SnapshotBackend>(&sb, 1));
        EXPECT_TRUE(s.ok()) << s.error().message();
        return s.ok() ? *s : Stats{};
    }
    void write(const std::function<Status(md::WriteTxn&)>& fn) {
        auto r = db->update([&](md::WriteTxn& txn) { return fn(txn); });
        ASSERT_TRUE(r.ok()) << r.error().message();
    }

    md::testing::TempDir tmp_;
    std::shared_ptr<md::Database> db;
    std::shared_ptr<FakeSnapshotter> backend;
    std::shared_ptr<md::SnapshotStore> store;
};

TEST_F(SnapshotGc, UnreferencedSnapshotsGoLeavesFirstAndCleanupRuns) {
    chain("ns", {"a", "b", "c"});
    ASSERT_EQ(backend->size(), 3u);
    Stats s = run();
    EXPECT_EQ(s.snapshots, 3u);
    EXPECT_EQ(s.backend_snapshots, 3u);
    EXPECT_EQ(s.snapshotters_cleaned, 1u);
    EXPECT_EQ(backend->size(), 0u); // the fake refuses a parent before its child
    EXPECT_EQ(backend->cleanups, 1);
    EXPECT_FALSE(has("ns", "a"));
}

TEST_F(SnapshotGc, RootsKeepTheirParentChains) {
    chain("ns", {"a", "b"}, {{"containerd.io/gc.root", "x"}});
    chain("ns", {"p", "q"});
    // A lease holding an active snapshot on top of q.
    write([&](md::WriteTxn& txn) -> Status {
        GANTRY_TRY(md::leases::create(txn, "ns", "L", {}));
        return {};
    });
    ASSERT_TRUE(store->prepare("ns", "L", "work", "q", {}).ok());
    chain("ns", {"img1"});
    chain("ns", {"ctr-base"});
    ASSERT_TRUE(store->prepare("ns", "", "ctr-rw", "ctr-base", {}).ok());
    chain("ns", {"orphan1", "orphan2"});
    write([&](md::WriteTxn& txn) -> Status {
        // An image config blob pointing at img1 through gc.ref.snapshot, kept by an image.
        const auto blob = schema::blobs_bucket("ns").child("sha256:" + std::string(64, 'c'));
        GANTRY_TRY(md::put_value(txn, blob, schema::kSize, md::encode_varint(1)));
        GANTRY_TRY(md::write_labels(txn, blob, {{"containerd.io/gc.ref.snapshot.sn", "img1"}}));
        const auto img = schema::object_bucket("ns", schema::kImages).child("i");
        GANTRY_TRY(md::put_value(txn, img.child(schema::kTarget), schema::kDigest,
                                 "sha256:" + std::string(64, 'c')));
        // A container using ctr-rw.
        const auto c = schema::object_bucket("ns", schema::kContainers).child("c1");
        GANTRY_TRY(md::put_value(txn, c, schema::kSnapshotter, "sn"));
        return md::put_value(txn, c, schema::kSnapshotKey, "ctr-rw");
    });
    const std::string orphan_key = bkey("ns", "orphan2");
    Stats s = run();
    EXPECT_EQ(s.snapshots, 2u);
    for (const auto* k : {"a", "b", "p", "q", "work", "img1", "ctr-base", "ctr-rw"})
        EXPECT_TRUE(has("ns", k)) << k;
    EXPECT_FALSE(has("ns", "orphan1"));
    EXPECT_FALSE(has("ns", "orphan2"));
    EXPECT_FALSE(backend->has(orphan_key));
    EXPECT_EQ(backend->size(), 8u);
}

TEST_F(SnapshotGc, SweptChildUnlinksFromSurvivingParent) {
    chain("ns", {"base"}, {{"containerd.io/gc.root", "1"}});
    ASSERT_TRUE(store->prepare("ns", "", "child", "base", {}).ok());
    EXPECT_EQ(store->remove("ns", "base").error().code(), Errc::FailedPrecondition);
    run();
    EXPECT_FALSE(has("ns", "child"));
    // The stale child link is gone, so the parent can be removed now.
    EXPECT_TRUE(store->remove("ns", "base").ok());
}

TEST_F(SnapshotGc, SharedBackendSnapshotKeptWhileAnyNamespaceNamesIt) {
    const snapshots::Labels ref{{std::string(snapshots::kRefLabel), "chain"}};
    ASSERT_TRUE(store->prepare("a", "", "ex", "", ref).ok());
    ASSERT_TRUE(store->commit("a", "", "chain", "ex", ref).ok());
    const std::string shared = bkey("a", "chain");
    EXPECT_EQ(store->prepare("b", "", "ex", "", ref).error().code(), Errc::AlreadyExists);
    write([&](md::WriteTxn& txn) -> Status {
        return md::write_labels(txn, schema::snapshotter_bucket("b", "sn").child("chain"),
                                {{"containerd.io/gc.root", "1"}});
    });
    Stats s = run();
    EXPECT_EQ(s.snapshots, 1u); // a's record
    EXPECT_TRUE(backend->has(shared));
    EXPECT_TRUE(has("b", "chain"));
}

TEST_F(SnapshotGc, OrphanedBackendSnapshotsGoOnlyWhenDirty) {
    chain("ns", {"kept"}, {{"containerd.io/gc.root", "1"}});
    ASSERT_TRUE(
        backend->prepare("ns/99/crashed", "", {}).ok()); // a crash between backend and record
    EXPECT_EQ(run(false).backend_snapshots, 0u);
    EXPECT_TRUE(backend->has("ns/99/crashed"));
    EXPECT_EQ(backend->cleanups, 0);
    Stats s = run(true);
    EXPECT_EQ(s.backend_snapshots, 1u);
    EXPECT_FALSE(backend->has("ns/99/crashed"));
    EXPECT_TRUE(has("ns", "kept"));
    EXPECT_EQ(backend->cleanups, 1);
}

TEST_F(SnapshotGc, RemoveMarksTheStoreDirty) {
    EXPECT_TRUE(store->take_dirty()); // dirty at start: the first pass clears crash leftovers
    EXPECT_FALSE(store->take_dirty());
    chain("ns", {"x"}, {{"containerd.io/gc.root", "1"}});
    EXPECT_FALSE(store->take_dirty());
    ASSERT_TRUE(store->remove("ns", "x").ok());
    EXPECT_TRUE(store->take_dirty());
}

TEST_F(SnapshotGc, OrphanListIsLeavesFirst) {
    ASSERT_TRUE(backend->prepare("o/1/a", "", {}).ok());
    ASSERT_TRUE(backend->commit("o/2/a", "o/1/a", {}).ok());
    ASSERT_TRUE(backend->prepare("o/3/b", "o/2/a", {}).ok());
    ASSERT_TRUE(backend->commit("o/4/b", "o/3/b", {}).ok());
    ASSERT_TRUE(backend->view("o/5/v", "o/4/b", {}).ok());
    auto list = md::orphaned_backend_keys(*db, "sn", *backend);
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(*list, (std::vector<std::string>{"o/5/v", "o/4/b", "o/2/a"}));
}

} // namespace
} // namespace gantry::gc
