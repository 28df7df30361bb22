// metadata::SnapshotStore: every rule of protocol-facts §8.1 at the metadata layer, namespace
// isolation, lease recording, the bolt layout of §5.3 and the cross-namespace snapshot.ref link.
// Runs over the in-memory FakeSnapshotter and the real native snapshotter
// (snapshot_store_backends.cpp).
#include "snapshot_store_test.hpp"

#include "core/filters/filter.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/leases.hpp"
#include "core/metadata/schema.hpp"

namespace gantry::snapshots::testing {
namespace {

namespace md = gantry::metadata;
namespace schema = gantry::metadata::schema;

std::vector<Info> walk_all(Store& s, std::string_view ns, std::vector<std::string> f = {}) {
    std::vector<Info> out;
    auto filter = filters::parse(f);
    EXPECT_TRUE(filter.ok());
    auto st = s.walk(ns, f.empty() ? nullptr : &*filter, [&](const Info& i) -> Status {
        out.push_back(i);
        return {};
    });
    EXPECT_TRUE(st.ok()) << st.error().message();
    return out;
}

std::vector<std::string> names(const std::vector<Info>& infos) {
    std::vector<std::string> out;
    for (const auto& i : infos)
        out.push_back(i.name);
    std::sort(out.begin(), out.end());
    return out;
}

TEST_P(SnapshotStoreTest, PrepareCommitViewLifecycle) {
    ASSERT_OK(store().prepare("ns1", "", "k1", "", {}));
    auto st = store().stat("ns1", "k1");
    ASSERT_OK(st);
    EXPECT_EQ(st->kind, Kind::active);
    EXPECT_EQ(st->parent, "");
    EXPECT_NE(st->created_at, Timestamp{});
    ASSERT_OK(store().commit("ns1", "", "base", "k1", {{"a", "b"}}));
    EXPECT_EQ(code(store().stat("ns1", "k1")), Errc::NotFound);
    auto base = store().stat("ns1", "base");
    ASSERT_OK(base);
    EXPECT_EQ(base->kind, Kind::committed);
    EXPECT_EQ(base->labels.at("a"), "b");
    auto m = store().view("ns1", "", "v", "base", {});
    ASSERT_OK(m);
    EXPECT_FALSE(m->empty());
    auto v = store().stat("ns1", "v");
    ASSERT_OK(v);
    EXPECT_EQ(v->kind, Kind::view);
    EXPECT_EQ(v->parent, "base");
    ASSERT_OK(store().mounts("ns1", "v"));
    ASSERT_OK(store().usage("ns1", "base"));
}

TEST_P(SnapshotStoreTest, BoltLayoutAndBackendNames) {
    ASSERT_OK(store().prepare("ns1", "", "k1", "", {}));
    EXPECT_EQ(backend_key("ns1", "k1"), "ns1/1/k1");
    ASSERT_OK(store().commit("ns1", "", "c1", "k1", {}));
    // Commit takes a new seq: the backend name changes.
    EXPECT_EQ(backend_key("ns1", "c1"), "ns1/2/c1");
    ASSERT_OK(store().prepare("ns1", "", "k2", "c1", {}));
    EXPECT_EQ(backend_key("ns1", "k2"), "ns1/3/k2");
    auto rd = db().begin_read();
    ASSERT_OK(rd);
    const auto sn = schema::snapshotter_bucket("ns1", kName);
    auto parent = md::get_value(*rd, sn.child("k2"), schema::kParent);
    ASSERT_OK(parent);
    EXPECT_EQ(parent->value_or(""), "c1");
    auto child = md::get_value(*rd, sn.child("c1").child(schema::kChildren), "k2");
    ASSERT_OK(child);
    EXPECT_TRUE(child->has_value());
    auto created = md::get_value(*rd, sn.child("k2"), schema::kCreatedAt);
    ASSERT_OK(created);
    ASSERT_TRUE(created->has_value());
    EXPECT_EQ((*created)->size(), 15u); // Go's MarshalBinary time
}

TEST_P(SnapshotStoreTest, NamespacesAreIsolated) {
    ASSERT_OK(store().prepare("ns1", "", "k", "", {{"ns", "1"}}));
    ASSERT_OK(store().prepare("ns2", "", "k", "", {{"ns", "2"}}));
    EXPECT_NE(backend_key("ns1", "k"), backend_key("ns2", "k"));
    EXPECT_EQ(store().stat("ns1", "k")->labels.at("ns"), "1");
    EXPECT_EQ(store().stat("ns2", "k")->labels.at("ns"), "2");
    ASSERT_OK(store().commit("ns1", "", "c", "k", {}));
    EXPECT_EQ(code(store().stat("ns2", "c")), Errc::NotFound);
    EXPECT_EQ(code(store().prepare("ns2", "", "child", "c", {})), Errc::NotFound);
    EXPECT_EQ(code(store().remove("ns2", "c")), Errc::NotFound);
    EXPECT_EQ(code(store().mounts("ns3", "k")), Errc::NotFound);
    EXPECT_EQ(names(walk_all(store(), "ns1")), std::vector<std::string>{"c"});
    EXPECT_EQ(names(walk_all(store(), "ns2")), std::vector<std::string>{"k"});
    EXPECT_TRUE(walk_all(store(), "ns3").empty());
    ASSERT_OK(store().remove("ns2", "k"));
    ASSERT_OK(store().stat("ns1", "c"));
}

TEST_P(SnapshotStoreTest, PrepareErrors) {
    ASSERT_OK(store().prepare("ns", "", "k", "", {}));
    auto dup = store().prepare("ns", "", "k", "", {});
    EXPECT_EQ(code(dup), Errc::AlreadyExists);
    EXPECT_EQ(code(store().view("ns", "", "k", "", {})), Errc::AlreadyExists);
    auto missing = store().prepare("ns", "", "k2", "nope", {});
    EXPECT_EQ(code(missing), Errc::NotFound);
    EXPECT_NE(missing.error().message().find("parent snapshot nope does not exist"),
              std::string::npos);
    // An active parent: the backend refuses, nothing is recorded.
    EXPECT_EQ(code(store().prepare("ns", "", "k3", "k", {})), Errc::InvalidArgument);
    EXPECT_EQ(code(store().stat("ns", "k3")), Errc::NotFound);
    EXPECT_EQ(code(store().prepare("ns", "", "", "", {})), Errc::InvalidArgument);
    EXPECT_EQ(code(store().prepare("ns", "", "big", "", {{"k", std::string(5000, 'x')}})),
              Errc::InvalidArgument);
}

TEST_P(SnapshotStoreTest, CommitRules) {
    ASSERT_OK(store().prepare("ns", "", "a", "", {}));
    ASSERT_OK(store().commit("ns", "", "base", "a", {}));
    ASSERT_OK(store().prepare("ns", "", "b", "base", {}));
    ASSERT_OK(store().prepare("ns", "", "other", "", {}));
    EXPECT_EQ(code(store().commit("ns", "", "base", "b", {})), Errc::AlreadyExists);
    EXPECT_EQ(code(store().commit("ns", "", "x", "missing", {})), Errc::NotFound);
    ASSERT_OK(store().view("ns", "", "v", "base", {}));
    EXPECT_EQ(code(store().commit("ns", "", "x", "v", {})), Errc::FailedPrecondition);
    EXPECT_EQ(code(store().stat("ns", "x")), Errc::NotFound); // nothing half-done
    ASSERT_OK(store().stat("ns", "v"));
    ASSERT_OK(store().commit("ns", "", "top", "b", {{"l", "v"}}));
    auto top = store().stat("ns", "top");
    ASSERT_OK(top);
    EXPECT_EQ(top->parent, "base");
    EXPECT_EQ(top->kind, Kind::committed);
    EXPECT_EQ(top->labels, (Labels{{"l", "v"}}));
    // The parent's child link moved from b to top: base cannot go, top can.
    EXPECT_EQ(code(store().remove("ns", "base")), Errc::FailedPrecondition);
    auto children = walk_all(store(), "ns", {"parent==base"});
    EXPECT_EQ(names(children), (std::vector<std::string>{"top", "v"}));
    ASSERT_OK(store().remove("ns", "top"));
    ASSERT_OK(store().remove("ns", "v"));
    ASSERT_OK(store().remove("ns", "base"));
}

TEST_P(SnapshotStoreTest, RemoveAndMountsRules) {
    ASSERT_OK(store().prepare("ns", "", "a", "", {}));
    ASSERT_OK(store().commit("ns", "", "base", "a", {}));
    ASSERT_OK(store().prepare("ns", "", "c", "base", {}));
    EXPECT_EQ(code(store().mounts("ns", "base")), Errc::FailedPrecondition);
    EXPECT_EQ(code(store().mounts("ns", "missing")), Errc::NotFound);
    EXPECT_EQ(code(store().usage("ns", "missing")), Errc::NotFound);
    auto rm = store().remove("ns", "base");
    EXPECT_EQ(code(rm), Errc::FailedPrecondition);
    EXPECT_NE(rm.error().message().find("cannot remove snapshot with child"), std::string::npos);
    EXPECT_EQ(code(store().remove("ns", "missing")), Errc::NotFound);
    const std::string bkey = backend_key("ns", "c");
    const int dirty_before = collector->dirty;
    ASSERT_OK(store().remove("ns", "c"));
    EXPECT_EQ(collector->dirty, dirty_before + 1);
    // Remove only edits metadata; the data is the collector's.
    EXPECT_TRUE(backend_has(bkey));
    ASSERT_OK(store().remove("ns", "base"));
}

TEST_P(SnapshotStoreTest, UpdateKeepsLabelsInMetadataAndPassesInherited) {
    ASSERT_OK(store().prepare("ns", "", "k", "", {{"a", "1"}}));
    Info in;
    in.name = "k";
    in.labels = {{"b", "2"}, {"containerd.io/snapshot/x", "y"}};
    auto up = store().update("ns", in, {});
    ASSERT_OK(up);
    EXPECT_EQ(up->labels, in.labels);
    // The backend holds only the inherited label.
    auto bi = backend().stat(backend_key("ns", "k"));
    ASSERT_OK(bi);
    EXPECT_EQ(bi->labels, (Labels{{"containerd.io/snapshot/x", "y"}}));
    in.labels = {{"c", "3"}};
    std::vector<std::string> mask{"labels.c", "labels.b"};
    up = store().update("ns", in, mask);
    ASSERT_OK(up);
    EXPECT_EQ(up->labels, (Labels{{"c", "3"}, {"containerd.io/snapshot/x", "y"}}));
    EXPECT_EQ(store().stat("ns", "k")->labels, up->labels);
    std::vector<std::string> bad{"parent"};
    EXPECT_EQ(code(store().update("ns", in, bad)), Errc::InvalidArgument);
    in.name = "missing";
    EXPECT_EQ(code(store().update("ns", in, {})), Errc::NotFound);
    in.name = "";
    EXPECT_EQ(code(store().update("ns", in, {})), Errc::InvalidArgument);
}

TEST_P(SnapshotStoreTest, LeasesRecordPrepareViewAndCommit) {
    ASSERT_TRUE(db().update([&](md::WriteTxn& txn) -> Status {
                        GANTRY_TRY(md::leases::create(txn, "ns", "L", {}));
                        return {};
                    })
                    .ok());
    const auto held = [&](const std::string& key) {
        auto rd = db().begin_read();
        auto v = md::get_value(*rd,
                               schema::object_bucket("ns", schema::kLeases)
                                   .child("L")
                                   .child(schema::kSnapshots)
                                   .child(kName),
                               key);
        return v.ok() && v->has_value();
    };
    ASSERT_OK(store().prepare("ns", "L", "k", "", {}));
    EXPECT_TRUE(held("k"));
    ASSERT_OK(store().commit("ns", "L", "c", "k", {}));
    EXPECT_FALSE(held("k"));
    EXPECT_TRUE(held("c"));
    ASSERT_OK(store().view("ns", "L", "v", "c", {}));
    EXPECT_TRUE(held("v"));
    // A lease that does not exist: NotFound, and nothing is created anywhere.
    const auto before = backend_size();
    auto bad = store().prepare("ns", "nolease", "k2", "", {});
    EXPECT_EQ(code(bad), Errc::NotFound);
    EXPECT_NE(bad.error().message().find("lease does not exist"), std::string::npos);
    EXPECT_EQ(code(store().stat("ns", "k2")), Errc::NotFound);
    EXPECT_EQ(backend_size(), before);
    ASSERT_OK(store().prepare("ns", "", "k3", "", {}));
    EXPECT_EQ(code(store().commit("ns", "nolease", "c3", "k3", {})), Errc::NotFound);
    EXPECT_EQ(store().stat("ns", "k3")->kind, Kind::active);
    ASSERT_OK(store().remove("ns", "v"));
    EXPECT_FALSE(held("v"));
}

TEST_P(SnapshotStoreTest, WalkFilters) {
    ASSERT_OK(store().prepare("ns", "", "a", "", {}));
    ASSERT_OK(store().commit("ns", "", "base", "a", {{"tier", "low"}}));
    ASSERT_OK(store().prepare("ns", "", "act", "base", {{"tier", "high"}}));
    ASSERT_OK(store().view("ns", "", "vw", "base", {}));
    EXPECT_EQ(names(walk_all(store(), "ns")), (std::vector<std::string>{"act", "base", "vw"}));
    EXPECT_EQ(names(walk_all(store(), "ns", {"kind==committed"})),
              std::vector<std::string>{"base"});
    EXPECT_EQ(names(walk_all(store(), "ns", {"kind==view"})), std::vector<std::string>{"vw"});
    EXPECT_EQ(names(walk_all(store(), "ns", {"kind==active"})), std::vector<std::string>{"act"});
    EXPECT_EQ(names(walk_all(store(), "ns", {"name==act"})), std::vector<std::string>{"act"});
    EXPECT_EQ(names(walk_all(store(), "ns", {"parent==base"})),
              (std::vector<std::string>{"act", "vw"}));
    // parent is always present: roots match parent==""... as an empty string compare
    EXPECT_EQ(names(walk_all(store(), "ns", {"labels.tier==high"})),
              std::vector<std::string>{"act"});
    EXPECT_EQ(names(walk_all(store(), "ns", {"labels.tier"})),
              (std::vector<std::string>{"act", "base"}));
    EXPECT_EQ(names(walk_all(store(), "ns", {"kind==view", "labels.tier==low"})),
              (std::vector<std::string>{"base", "vw"}));
}

TEST_P(SnapshotStoreTest, WalkCrossesBatches) {
    for (int i = 0; i < 250; ++i)
        ASSERT_OK(store().prepare("ns", "", "k" + std::to_string(1000 + i), "", {}));
    auto all = walk_all(store(), "ns");
    ASSERT_EQ(all.size(), 250u);
    EXPECT_EQ(all.front().name, "k1000");
    EXPECT_EQ(all.back().name, "k1249");
}

TEST_P(SnapshotStoreTest, FailedBackendPrepareLeavesNoRecord) {
    if (!fake()) GTEST_SKIP() << "needs failure injection";
    fake()->fail_prepare = true;
    EXPECT_EQ(code(store().prepare("ns", "", "k", "", {})), Errc::Unknown);
    fake()->fail_prepare = false;
    EXPECT_EQ(code(store().stat("ns", "k")), Errc::NotFound);
    ASSERT_OK(store().prepare("ns", "", "k", "", {}));
}

TEST_P(SnapshotStoreTest, FailedBackendCommitLeavesMetadataUnchanged) {
    if (!fake()) GTEST_SKIP() << "needs failure injection";
    ASSERT_OK(store().prepare("ns", "", "k", "", {}));
    fake()->fail_commit = true;
    EXPECT_FALSE(store().commit("ns", "", "c", "k", {}).ok());
    fake()->fail_commit = false;
    EXPECT_EQ(code(store().stat("ns", "c")), Errc::NotFound);
    EXPECT_EQ(store().stat("ns", "k")->kind, Kind::active);
    ASSERT_OK(store().commit("ns", "", "c", "k", {}));
}

// What a crash between the backend commit and the metadata leaves (txn 1 done, txn 2 not):
// recover() finishes the commit if the backend made it, and undoes it otherwise.
TEST_P(SnapshotStoreTest, RecoverFinishesOrUndoesInterruptedCommits) {
    for (bool backend_committed : {true, false}) {
        const std::string k = backend_committed ? "k1" : "k2";
        const std::string c = backend_committed ? "c1" : "c2";
        ASSERT_OK(store().prepare("ns", "", k, "", {}));
        const std::string bkey = backend_key("ns", k);
        const std::string nkey = "ns/99" + std::string(backend_committed ? "1" : "2") + "/" + c;
        const auto sn = md::schema::snapshotter_bucket("ns", kName);
        ASSERT_TRUE(db().update([&](md::WriteTxn& txn) -> Status {
                            GANTRY_TRY(md::put_value(txn, sn.child(c), schema::kName, nkey));
                            return md::put_value(txn, sn.child(k), "committing", c);
                        })
                        .ok());
        if (backend_committed) ASSERT_OK(backend().commit(nkey, bkey, {}));
        auto fixed = store().recover();
        ASSERT_OK(fixed);
        EXPECT_EQ(*fixed, 1u);
        if (backend_committed) {
            EXPECT_EQ(code(store().stat("ns", k)), Errc::NotFound);
            EXPECT_EQ(store().stat("ns", c)->kind, Kind::committed);
        } else {
            EXPECT_EQ(code(store().stat("ns", c)), Errc::NotFound);
            EXPECT_EQ(store().stat("ns", k)->kind, Kind::active);
            ASSERT_OK(store().commit("ns", "", c, k, {})); // and it commits normally now
        }
        EXPECT_EQ(*store().recover(), 0u);
    }
}

TEST_P(SnapshotStoreTest, SnapshotRefTargetRules) {
    const Labels ref{{std::string(kRefLabel), "chain1"}};
    // The target already exists in this namespace: AlreadyExists before touching the backend.
    ASSERT_OK(store().prepare("ns1", "", "x", "", {}));
    ASSERT_OK(store().commit("ns1", "", "chain0", "x", {}));
    auto taken = store().prepare("ns1", "", "y", "", {{std::string(kRefLabel), "chain0"}});
    EXPECT_EQ(code(taken), Errc::AlreadyExists);
    EXPECT_NE(taken.error().message().find("target snapshot"), std::string::npos);

    ASSERT_OK(store().prepare("ns1", "", "extract-1", "", ref));
    ASSERT_OK(store().commit("ns1", "", "chain1", "extract-1", ref));
    if (!fake()) return; // the file backends do not share committed snapshots by label
    // Another namespace preparing the same target with the same parent gets the committed
    // snapshot linked in as the target, and AlreadyExists.
    const std::string shared = backend_key("ns1", "chain1");
    const auto before = backend_size();
    auto linked = store().prepare("ns2", "", "extract-2", "", ref);
    EXPECT_EQ(code(linked), Errc::AlreadyExists);
    EXPECT_EQ(backend_size(), before);
    EXPECT_EQ(code(store().stat("ns2", "extract-2")), Errc::NotFound);
    auto info = store().stat("ns2", "chain1");
    ASSERT_OK(info);
    EXPECT_EQ(info->kind, Kind::committed);
    EXPECT_EQ(backend_key("ns2", "chain1"), shared);
    // Both namespaces now build on it independently.
    ASSERT_OK(store().prepare("ns2", "", "c2", "chain1", {}));
    ASSERT_OK(store().remove("ns1", "chain1"));
    ASSERT_OK(store().stat("ns2", "chain1"));
}

TEST_P(SnapshotStoreTest, ConcurrentPreparesOfOneKey) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0}, exists{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            auto r = store().prepare("ns", "", "same", "", {});
            if (r.ok())
                ++ok;
            else if (r.error().is(Errc::AlreadyExists))
                ++exists;
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(exists.load(), 7);
    // Losers removed their backend snapshots again.
    EXPECT_EQ(backend_size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SnapshotStoreTest,
                         ::testing::Values(BackendKind::fake, BackendKind::native),
                         backend_kind_name);

} // namespace
} // namespace gantry::snapshots::testing
