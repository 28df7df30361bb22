// The namespaced store over the metadata database and the local backend: namespaces isolation,
// the shared-on-disk shortcut, records, labels, filters, ingests and commit checks.
#include "core/filters/filter.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/content.hpp"
#include "core/metadata/schema.hpp"
#include "plugins/content/local_store.hpp"
#include "tests/unit/content/test_util.hpp"

#include <gtest/gtest.h>

namespace gantry::content {
namespace {

using testing::sha256;
using testing::TempDir;

filters::Filter parse(const std::string& f) {
    auto r = filters::parse_one(f);
    EXPECT_TRUE(r.ok());
    return std::move(r).value();
}

class ContentStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = metadata::Database::open(dir_.path());
        ASSERT_TRUE(db.ok()) << db.error().message();
        db_ = std::make_shared<metadata::Database>(std::move(db).value());
        auto local = LocalStore::open(dir_.path() + "/content");
        ASSERT_TRUE(local.ok());
        local_ = *local;
        store_ = std::make_shared<metadata::ContentStore>(db_, local_);
    }

    std::string put(const std::string& ns, const std::string& ref, const std::string& data,
                    const Labels& labels = {}) {
        auto w = store_->writer(ns, "", ref, static_cast<std::int64_t>(data.size()), "");
        EXPECT_TRUE(w.ok()) << w.error().message();
        EXPECT_TRUE((*w)->write(data).ok());
        auto c = (*w)->commit(static_cast<std::int64_t>(data.size()), sha256(data), labels);
        EXPECT_TRUE(c.ok()) << c.error().message();
        return sha256(data);
    }

    TempDir dir_;
    std::shared_ptr<metadata::Database> db_;
    std::shared_ptr<LocalStore> local_;
    std::shared_ptr<metadata::ContentStore> store_;
};

TEST_F(ContentStoreTest, CommitRecordsBlobInItsNamespaceOnly) {
    const std::string d = put("a", "ref", "payload", {{"k", "v"}});
    auto info = store_->info("a", d);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->size, 7);
    EXPECT_EQ(info->labels, (Labels{{"k", "v"}}));
    EXPECT_GT(info->created_at.seconds, 0);
    auto other = store_->info("b", d);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code(), Errc::NotFound);
    EXPECT_EQ(other.error().message(), "content digest " + d);
    EXPECT_EQ(store_->reader("b", d).error().code(), Errc::NotFound);
    EXPECT_TRUE(store_->reader("a", d).ok());
    // The ingest record is gone after commit.
    EXPECT_EQ(store_->status("a", "ref").error().code(), Errc::NotFound);
}

TEST_F(ContentStoreTest, ExpectedAlreadyInNamespaceIsAlreadyExists) {
    const std::string d = put("a", "ref", "payload");
    auto w = store_->writer("a", "", "ref2", 7, d);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code(), Errc::AlreadyExists);
    // A lease that does not exist is reported when something would be recorded in it.
    auto leased = store_->writer("a", "no-such-lease", "ref3", 0, "");
    ASSERT_FALSE(leased.ok());
    EXPECT_EQ(leased.error().code(), Errc::NotFound);
    EXPECT_EQ(leased.error().message(), "lease does not exist");
    EXPECT_EQ(store_->status("a", "ref3").error().code(), Errc::NotFound);
}

TEST_F(ContentStoreTest, SharedBlobNeedsNoDataInAnotherNamespace) {
    const std::string d = put("a", "ref", "shared bytes");
    auto w = store_->writer("b", "", "ref", 0, d);
    ASSERT_TRUE(w.ok()) << w.error().message();
    auto st = (*w)->status();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->offset, 12);
    EXPECT_EQ(st->total, 12);
    EXPECT_EQ(st->expected, d);
    ASSERT_TRUE((*w)->commit(12, d, {{"x", "y"}}).ok());
    auto info = store_->info("b", d);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->labels.at("x"), "y");
    EXPECT_TRUE(local_->list_ingests()->empty());
}

TEST_F(ContentStoreTest, CommitChecksKeepTheIngest) {
    auto w = store_->writer("a", "", "ref", 0, "");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write("abc").ok());
    auto c = (*w)->commit(5, "", {});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), Errc::FailedPrecondition);
    w->reset();
    EXPECT_EQ(store_->info("a", sha256("abc")).error().code(), Errc::NotFound);
    auto st = store_->status("a", "ref");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->offset, 3);
    EXPECT_EQ(st->ref, "ref");
    // Wrong digest: FailedPrecondition, nothing recorded.
    auto w2 = store_->writer("a", "", "ref", 0, "");
    ASSERT_TRUE(w2.ok());
    auto c2 = (*w2)->commit(0, sha256("abd"), {});
    EXPECT_EQ(c2.error().code(), Errc::FailedPrecondition);
    w2->reset();
    ASSERT_TRUE(store_->abort("a", "ref", "").ok());
    EXPECT_EQ(store_->abort("a", "ref", "").error().code(), Errc::NotFound);
    EXPECT_TRUE(local_->list_ingests()->empty());
}

TEST_F(ContentStoreTest, UpdateLabelsWithPaths) {
    const std::string d = put("a", "ref", "x", {{"a", "1"}, {"b", "2"}});
    Info in;
    in.digest = d;
    in.labels = {{"b", "3"}, {"c", "4"}};
    std::vector<std::string> paths{"labels.b", "labels.a"};
    auto u = store_->update("a", in, paths);
    ASSERT_TRUE(u.ok()) << u.error().message();
    EXPECT_EQ(u->labels, (Labels{{"b", "3"}}));
    auto u2 = store_->update("a", in, {});
    EXPECT_EQ(u2->labels, (Labels{{"b", "3"}, {"c", "4"}}));
    std::vector<std::string> bad{"size"};
    auto u3 = store_->update("a", in, bad);
    ASSERT_FALSE(u3.ok());
    EXPECT_EQ(u3.error().code(), Errc::InvalidArgument);
    EXPECT_NE(u3.error().message().find("cannot update \"size\" field"), std::string::npos);
    Info big;
    big.digest = d;
    big.labels = {{"k", std::string(4096, 'v')}};
    auto u4 = store_->update("a", big, {});
    ASSERT_FALSE(u4.ok());
    EXPECT_EQ(u4.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(store_->info("a", d)->labels, (Labels{{"b", "3"}, {"c", "4"}}));
    Info missing;
    missing.digest = sha256("none");
    EXPECT_EQ(store_->update("a", missing, {}).error().code(), Errc::NotFound);
}

TEST_F(ContentStoreTest, WalkAndListStatusesFilter) {
    const std::string d1 = put("a", "r1", "one", {{"kind", "x"}});
    const std::string d2 = put("a", "r2", "two");
    put("b", "r3", "three");
    std::vector<std::string> seen;
    auto collect = [&](const Info& i) -> Status {
        seen.push_back(i.digest);
        return {};
    };
    ASSERT_TRUE(store_->walk("a", parse(""), collect).ok());
    EXPECT_EQ(seen.size(), 2u);
    seen.clear();
    ASSERT_TRUE(store_->walk("a", parse("labels.kind==x"), collect).ok());
    EXPECT_EQ(seen, std::vector<std::string>{d1});
    seen.clear();
    ASSERT_TRUE(store_->walk("a", parse("digest==" + d2), collect).ok());
    EXPECT_EQ(seen, std::vector<std::string>{d2});

    auto w1 = store_->writer("a", "", "layer-1", 0, "");
    auto w2 = store_->writer("a", "", "config-1", 0, "");
    ASSERT_TRUE(w1.ok() && w2.ok());
    auto all = store_->list_statuses("a", parse(""));
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), 2u);
    auto some = store_->list_statuses("a", parse("ref~=layer"));
    ASSERT_EQ(some->size(), 1u);
    EXPECT_EQ(some->front().ref, "layer-1");
    EXPECT_TRUE(store_->list_statuses("b", parse(""))->empty());
}

TEST_F(ContentStoreTest, LeaseHoldsIngestThenBlob) {
    using metadata::BucketPath;
    const BucketPath lease = metadata::schema::object_bucket("a", "leases").child("L");
    ASSERT_TRUE(db_->update([&](metadata::WriteTxn& txn) -> Status {
                       GANTRY_TRY(metadata::ensure_bucket(txn, lease));
                       return {};
                   })
                    .ok());
    auto has = [&](std::string_view type, std::string_view id) {
        auto v = db_->view([&](const metadata::Txn& txn) {
            return metadata::get_value(txn, lease.child(type), id);
        });
        return v.ok() && v->has_value();
    };
    auto expire = [&](std::string_view ref) {
        auto v = db_->view([&](const metadata::Txn& txn) {
            return metadata::get_value(txn, metadata::schema::ingests_bucket("a").child(ref),
                                       "expireat");
        });
        return v.ok() && v->has_value();
    };
    auto w = store_->writer("a", "L", "leased", 0, "");
    ASSERT_TRUE(w.ok()) << w.error().message();
    EXPECT_TRUE(has("ingests", "leased"));
    EXPECT_FALSE(expire("leased")); // a leased ingest does not expire by itself
    ASSERT_TRUE((*w)->write("data").ok());
    ASSERT_TRUE((*w)->commit(4, "", {}).ok());
    EXPECT_FALSE(has("ingests", "leased"));
    EXPECT_TRUE(has("content", sha256("data")));
    auto unleased = store_->writer("a", "", "free", 0, "");
    ASSERT_TRUE(unleased.ok());
    EXPECT_TRUE(expire("free"));
}

TEST_F(ContentStoreTest, RemoveDropsRecordNotBytes) {
    const std::string d = put("a", "ref", "keep on disk");
    ASSERT_TRUE(store_->remove("a", d).ok());
    EXPECT_EQ(store_->info("a", d).error().code(), Errc::NotFound);
    EXPECT_EQ(store_->remove("a", d).error().code(), Errc::NotFound);
    EXPECT_TRUE(local_->info(d).ok()); // garbage collection removes the file
}

} // namespace
} // namespace gantry::content
