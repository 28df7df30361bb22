#include "core/filters/filter.hpp"
#include "core/snapshots/storage.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <string>

namespace gantry::snapshots::storage {
namespace {

namespace stdfs = std::filesystem;

class StorageTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (stdfs::temp_directory_path() / "gantry-snapstore-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        auto ms = MetaStore::open(root_);
        ASSERT_TRUE(ms.ok()) << ms.error().message();
        ms_ = *ms;
    }
    void TearDown() override {
        ms_.reset();
        std::error_code ec;
        stdfs::remove_all(root_, ec);
    }

    // Each helper runs one write transaction and commits it only on success.
    Result<Snapshot> create_(Kind kind, std::string_view key, std::string_view parent,
                             const Labels& labels = {}) {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto s, create(tx, kind, key, parent, labels));
        GANTRY_TRY(tx.commit());
        return s;
    }
    Result<std::uint64_t> commit_(std::string_view key, std::string_view name, Usage u = {},
                                  const Labels& labels = {}) {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto id, commit_active(tx, key, name, u, labels));
        GANTRY_TRY(tx.commit());
        return id;
    }
    Result<Removed> remove_(std::string_view key) {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto r, remove(tx, key));
        GANTRY_TRY(tx.commit());
        return r;
    }
    Result<Record> info_(std::string_view key) {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_read());
        return get_info(tx, key);
    }

    stdfs::path root_;
    std::shared_ptr<MetaStore> ms_;
};

TEST_F(StorageTest, CreateReturnsFreshIdsAndParentChainNearestFirst) {
    auto a = create_(Kind::active, "a", "");
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a->parent_ids.empty());
    ASSERT_TRUE(commit_("a", "A").ok());
    auto b = create_(Kind::active, "b", "A");
    ASSERT_TRUE(b.ok());
    EXPECT_NE(b->id, a->id);
    ASSERT_TRUE(commit_("b", "B").ok());
    auto c = create_(Kind::view, "c", "B");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->kind, Kind::view);
    EXPECT_EQ(c->parent_ids, (std::vector<std::uint64_t>{b->id, a->id}));
    auto again = [&] {
        auto tx = ms_->begin_read();
        return get_active(*tx, "c");
    }();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->id, c->id);
    EXPECT_EQ(again->parent_ids, c->parent_ids);
}

TEST_F(StorageTest, CreateErrors) {
    ASSERT_TRUE(create_(Kind::active, "a", "").ok());
    auto dup = create_(Kind::active, "a", "");
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code(), Errc::AlreadyExists);
    auto missing = create_(Kind::active, "b", "nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), Errc::NotFound);
    auto uncommitted = create_(Kind::active, "b", "a");
    ASSERT_FALSE(uncommitted.ok());
    EXPECT_EQ(uncommitted.error().code(), Errc::InvalidArgument);
    auto committed_kind = create_(Kind::committed, "c", "");
    ASSERT_FALSE(committed_kind.ok());
    EXPECT_EQ(committed_kind.error().code(), Errc::InvalidArgument);
    auto empty = create_(Kind::active, "", "");
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code(), Errc::InvalidArgument);
    auto huge = create_(Kind::active, std::string(600, 'k'), "");
    ASSERT_FALSE(huge.ok());
    EXPECT_EQ(huge.error().code(), Errc::InvalidArgument);
}

TEST_F(StorageTest, CommitKeepsIdReplacesLabelsAndRecordsUsage) {
    auto a = create_(Kind::active, "a", "", {{"x", "1"}, {"empty", ""}});
    ASSERT_TRUE(a.ok());
    auto ai = info_("a");
    ASSERT_TRUE(ai.ok());
    EXPECT_EQ(ai->info.labels, (Labels{{"x", "1"}}));
    auto id = commit_("a", "A", {4096, 3}, {{"y", "2"}});
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, a->id);
    auto gone = info_("a");
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code(), Errc::NotFound);
    auto r = info_("A");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->id, a->id);
    EXPECT_EQ(r->info.kind, Kind::committed);
    EXPECT_EQ(r->info.labels, (Labels{{"y", "2"}}));
    EXPECT_EQ(r->usage.size, 4096);
    EXPECT_EQ(r->usage.inodes, 3);
    EXPECT_TRUE(r->info.parent.empty());
}

TEST_F(StorageTest, CommitErrors) {
    ASSERT_TRUE(create_(Kind::active, "a", "").ok());
    ASSERT_TRUE(commit_("a", "A").ok());
    ASSERT_TRUE(create_(Kind::active, "b", "A").ok());
    ASSERT_TRUE(create_(Kind::view, "v", "A").ok());
    auto taken = commit_("b", "A");
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ(taken.error().code(), Errc::AlreadyExists);
    auto missing = commit_("nope", "N");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), Errc::NotFound);
    auto view = commit_("v", "V");
    ASSERT_FALSE(view.ok());
    EXPECT_EQ(view.error().code(), Errc::FailedPrecondition);
    auto committed = commit_("A", "A2");
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().code(), Errc::FailedPrecondition);
    // A failed commit changed nothing.
    EXPECT_TRUE(info_("b").ok());
    auto tx = ms_->begin_read();
    auto act = get_active(*tx, "A");
    ASSERT_FALSE(act.ok());
    EXPECT_EQ(act.error().code(), Errc::FailedPrecondition);
}

TEST_F(StorageTest, ChildLinkFollowsCommitAndBlocksRemove) {
    ASSERT_TRUE(create_(Kind::active, "a", "").ok());
    ASSERT_TRUE(commit_("a", "A").ok());
    ASSERT_TRUE(create_(Kind::active, "b", "A").ok());
    {
        auto tx = ms_->begin_read();
        auto kids = children(*tx, "A");
        ASSERT_TRUE(kids.ok());
        EXPECT_EQ(*kids, (std::vector<std::string>{"b"}));
    }
    ASSERT_TRUE(commit_("b", "B").ok());
    {
        auto tx = ms_->begin_read();
        auto kids = children(*tx, "A");
        ASSERT_TRUE(kids.ok());
        EXPECT_EQ(*kids, (std::vector<std::string>{"B"}));
    }
    auto refused = remove_("A");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), Errc::FailedPrecondition);
    EXPECT_EQ(refused.error().message(), "cannot remove snapshot with child");
    auto rb = remove_("B");
    ASSERT_TRUE(rb.ok());
    EXPECT_EQ(rb->kind, Kind::committed);
    auto ra = remove_("A");
    ASSERT_TRUE(ra.ok());
    auto again = remove_("A");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), Errc::NotFound);
}

TEST_F(StorageTest, UpdateLabelsByPath) {
    ASSERT_TRUE(create_(Kind::active, "a", "", {{"k1", "v1"}, {"k2", "v2"}}).ok());
    auto run = [&](const Info& i, std::vector<std::string> paths) -> Result<Info> {
        GANTRY_ASSIGN_OR_RETURN(auto tx, ms_->begin_write());
        GANTRY_ASSIGN_OR_RETURN(auto out, update_info(tx, i, paths));
        GANTRY_TRY(tx.commit());
        return out;
    };
    Info i;
    i.name = "a";
    i.labels = {{"k1", "new"}, {"k3", "v3"}};
    auto one = run(i, {"labels.k1"});
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->labels, (Labels{{"k1", "new"}, {"k2", "v2"}}));
    i.labels = {};
    auto del = run(i, {"labels.k2"});
    ASSERT_TRUE(del.ok());
    EXPECT_EQ(del->labels, (Labels{{"k1", "new"}}));
    i.labels = {{"z", "1"}};
    auto all = run(i, {});
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->labels, (Labels{{"z", "1"}}));
    EXPECT_GE(all->updated_at, all->created_at);
    auto bad = run(i, {"parent"});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code(), Errc::InvalidArgument);
    i.name = "missing";
    auto nf = run(i, {});
    ASSERT_FALSE(nf.ok());
    EXPECT_EQ(nf.error().code(), Errc::NotFound);
    auto stored = info_("a");
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->info.labels, (Labels{{"z", "1"}}));
}

TEST_F(StorageTest, WalkWithFilterAndIdMap) {
    ASSERT_TRUE(create_(Kind::active, "a", "", {{"team", "x"}}).ok());
    ASSERT_TRUE(commit_("a", "A", {}, {{"team", "x"}}).ok());
    ASSERT_TRUE(create_(Kind::active, "b", "A").ok());
    ASSERT_TRUE(create_(Kind::view, "c", "A", {{"team", "y"}}).ok());
    auto names = [&](std::vector<std::string> f) {
        std::vector<std::string> out;
        auto filter = filters::parse(std::span<const std::string>(f));
        EXPECT_TRUE(filter.ok());
        auto tx = ms_->begin_read();
        EXPECT_TRUE(walk(*tx, f.empty() ? nullptr : &*filter, [&](const Info& i) {
                        out.push_back(i.name);
                        return ok_status();
                    }).ok());
        return out;
    };
    EXPECT_EQ(names({}), (std::vector<std::string>{"A", "b", "c"}));
    EXPECT_EQ(names({"kind==view"}), (std::vector<std::string>{"c"}));
    EXPECT_EQ(names({"parent==A"}), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(names({"labels.team==x", "name==b"}), (std::vector<std::string>{"A", "b"}));
    auto tx = ms_->begin_read();
    auto ids = id_map(*tx);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(ids->size(), 3u);
}

TEST_F(StorageTest, AbortedTransactionLeavesNothing) {
    {
        auto tx = ms_->begin_write();
        ASSERT_TRUE(create(*tx, Kind::active, "a", "", {}).ok());
        // no commit: the destructor aborts, as after a failed directory build
    }
    EXPECT_FALSE(info_("a").ok());
    auto again = create_(Kind::active, "a", "");
    EXPECT_TRUE(again.ok());
}

TEST_F(StorageTest, StateSurvivesReopenAndIdsAreNeverReused) {
    auto a = create_(Kind::active, "a", "");
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(commit_("a", "A", {10, 1}).ok());
    auto b = create_(Kind::active, "b", "A");
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(remove_("b").ok());
    ms_.reset();
    auto reopened = MetaStore::open(root_);
    ASSERT_TRUE(reopened.ok());
    ms_ = *reopened;
    auto r = info_("A");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->id, a->id);
    EXPECT_EQ(r->usage.size, 10);
    auto c = create_(Kind::active, "c", "A");
    ASSERT_TRUE(c.ok());
    EXPECT_GT(c->id, b->id);
}

} // namespace
} // namespace gantry::snapshots::storage
