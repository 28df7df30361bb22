#include "core/metadata/buckets.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/migrations.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/value_encoding.hpp"
#include "metadata_test_util.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace gantry::metadata {
namespace {

using testing::TempDir;

// A raw environment (no migrations run), as a database looks before Database::open touches it.
class Migrations : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = tmp_.path() / Database::kDirectoryName;
        std::filesystem::create_directory(dir_);
        auto env = Env::open(dir_);
        ASSERT_TRUE(env.ok()) << env.error().message();
        env_.emplace(std::move(env).value());
    }

    std::vector<std::pair<std::string, std::string>> dump() {
        std::vector<std::pair<std::string, std::string>> all;
        auto txn = env_->begin_read();
        auto cursor = txn->cursor();
        for (auto e = cursor->seek(std::string(1, '\0')); e.ok() && e->has_value();
             e = cursor->next())
            all.emplace_back((*e)->key, (*e)->value);
        return all;
    }

    std::int64_t version() {
        auto txn = env_->begin_read();
        auto v = read_schema_version(*txn);
        EXPECT_TRUE(v.ok());
        return *v;
    }

    TempDir tmp_;
    std::filesystem::path dir_;
    std::optional<Env> env_;
};

TEST_F(Migrations, EmptyDatabaseIsVersionZero) {
    EXPECT_EQ(version(), 0);
    EXPECT_TRUE(dump().empty());
}

TEST_F(Migrations, ListIsOrderedAndEndsAtTheSchemaVersion) {
    auto steps = migrations();
    ASSERT_FALSE(steps.empty());
    for (std::size_t i = 0; i < steps.size(); ++i)
        EXPECT_EQ(steps[i].version, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(steps.back().version, kSchemaVersion);
}

// Step 1 on its own: from an empty database to the v1 bucket.
TEST_F(Migrations, Step1CreatesTheV1Bucket) {
    const Migration& step = migrations()[0];
    ASSERT_EQ(step.version, 1);
    auto txn = env_->begin_write();
    ASSERT_OK(step.apply(*txn));
    ASSERT_OK(txn->commit());

    auto all = dump();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].first, schema::v1().prefix());
    EXPECT_EQ(all[0].second, "");
}

TEST_F(Migrations, MigrateRecordsTheVersionAsAGoVarint) {
    {
        auto txn = env_->begin_write();
        auto changed = migrate(*txn);
        ASSERT_OK(changed);
        EXPECT_TRUE(*changed);
        ASSERT_OK(txn->commit());
    }
    EXPECT_EQ(version(), kSchemaVersion);
    auto txn = env_->begin_read();
    EXPECT_EQ(**get_value(*txn, schema::v1(), schema::kVersion), encode_varint(kSchemaVersion));
    EXPECT_EQ(encode_varint(1), "\x02");
    // Already current: nothing to do.
    auto again = env_->begin_write();
    EXPECT_FALSE(*migrate(*again));
}

TEST_F(Migrations, NewerDatabaseIsRefusedAndLeftUnchanged) {
    {
        auto txn = env_->begin_write();
        ASSERT_OK(
            put_value(*txn, schema::v1(), schema::kVersion, encode_varint(kSchemaVersion + 1)));
        ASSERT_OK(put_value(*txn, schema::namespace_bucket("default").child("labels"), "k", "v"));
        ASSERT_OK(txn->commit());
    }
    const auto before = dump();
    {
        auto txn = env_->begin_write();
        auto r = migrate(*txn);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code(), Errc::FailedPrecondition);
        EXPECT_NE(r.error().message().find("newer"), std::string::npos);
    }
    env_.reset();
    auto db = Database::open(tmp_.path());
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error().code(), Errc::FailedPrecondition);
    env_.emplace(std::move(Env::open(dir_)).value());
    EXPECT_EQ(dump(), before);
}

// The runner itself, over a made-up list.
std::vector<std::int64_t> g_ran;

Status record_1(WriteTxn&) {
    g_ran.push_back(1);
    return ok_status();
}
Status record_2(WriteTxn& txn) {
    g_ran.push_back(2);
    return put_value(txn, schema::v1(), "two", "2");
}
Status fail_3(WriteTxn& txn) {
    g_ran.push_back(3);
    GANTRY_TRY(put_value(txn, schema::v1(), "three", "3"));
    return invalid_argument("boom");
}

constexpr Migration kSteps[] = {{1, "one", &record_1}, {2, "two", &record_2}, {3, "bad", &fail_3}};

TEST_F(Migrations, RunnerRunsPendingStepsInOrderUpToTarget) {
    g_ran.clear();
    {
        auto txn = env_->begin_write();
        ASSERT_OK(migrate(*txn, kSteps, 2));
        ASSERT_OK(txn->commit());
    }
    EXPECT_EQ(g_ran, (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(version(), 2);

    // A failing step: the error names the step; the caller's abort keeps version 2 intact.
    g_ran.clear();
    {
        auto txn = env_->begin_write();
        auto r = migrate(*txn, kSteps, 3);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
        EXPECT_EQ(r.error().message(), "metadata: migration to schema version 3: boom");
    }
    EXPECT_EQ(g_ran, (std::vector<std::int64_t>{3}));
    EXPECT_EQ(version(), 2);
    auto txn = env_->begin_read();
    EXPECT_FALSE(get_value(*txn, schema::v1(), "three")->has_value());
}

TEST_F(Migrations, RunnerSkipsStepsAtOrBelowTheCurrentVersion) {
    {
        auto txn = env_->begin_write();
        ASSERT_OK(put_value(*txn, schema::v1(), schema::kVersion, encode_varint(1)));
        ASSERT_OK(txn->commit());
    }
    g_ran.clear();
    auto txn = env_->begin_write();
    ASSERT_OK(migrate(*txn, kSteps, 2));
    EXPECT_EQ(g_ran, (std::vector<std::int64_t>{2}));
}

TEST_F(Migrations, CorruptVersionIsDataLoss) {
    {
        auto txn = env_->begin_write();
        ASSERT_OK(put_value(*txn, schema::v1(), schema::kVersion, "\x80"));
        ASSERT_OK(txn->commit());
    }
    auto txn = env_->begin_write();
    auto r = migrate(*txn);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::DataLoss);
}

} // namespace
} // namespace gantry::metadata
