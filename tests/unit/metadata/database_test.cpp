#include "core/metadata/buckets.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/migrations.hpp"
#include "core/metadata/schema.hpp"
#include "metadata_test_util.hpp"
#include "temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace gantry::metadata {
namespace {

using testing::DatabaseTest;
using testing::TempDir;

TEST(DatabaseOpen, CreatesAPrivateDirectoryAndMigrates) {
    TempDir tmp;
    auto db = Database::open(tmp.path());
    ASSERT_OK(db);
    const auto dir = tmp.path() / "io.containerd.metadata.v1.lmdb";
    EXPECT_EQ(db->path(), dir);
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_TRUE(std::filesystem::exists(dir / "data.mdb"));

    // A fresh database is not written at open (a cold start pays no commit); the first write
    // transaction brings it to the current schema.
    {
        auto txn = db->begin_read();
        EXPECT_EQ(*read_schema_version(*txn), 0);
    }
    ASSERT_OK(db->update([](WriteTxn& w) -> Status { return w.put("k", "v"); }));
    {
        auto txn = db->begin_read();
        EXPECT_EQ(*read_schema_version(*txn), kSchemaVersion);
    }
}

TEST(DatabaseOpen, FreshDatabaseMigratesInItsFirstWriteOnly) {
    TempDir tmp;
    {
        auto db = Database::open(tmp.path());
        ASSERT_OK(db);
        // An aborted first write leaves the database empty, and the next write migrates.
        {
            auto w = db->begin_write();
            ASSERT_OK(w);
        }
        auto txn = db->begin_read();
        EXPECT_EQ(*read_schema_version(*txn), 0);
    }
    {
        auto db = Database::open(tmp.path());
        ASSERT_OK(db);
        ASSERT_OK(db->update([](WriteTxn& w) -> Status { return w.put("k", "v"); }));
    }
    auto db = Database::open(tmp.path());
    ASSERT_OK(db);
    auto txn = db->begin_read();
    EXPECT_EQ(*read_schema_version(*txn), kSchemaVersion);
}

TEST(DatabaseOpen, MissingRootIsNotFoundNamingThePath) {
    TempDir tmp;
    auto db = Database::open(tmp.path() / "absent");
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error().code(), Errc::NotFound);
    EXPECT_NE(db.error().message().find((tmp.path() / "absent").string()), std::string::npos)
        << db.error().message();
}

TEST(DatabaseOpen, AFileWhereTheDirectoryGoesIsRefused) {
    TempDir tmp;
    std::ofstream(tmp.path() / "io.containerd.metadata.v1.lmdb") << "x";
    auto db = Database::open(tmp.path());
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error().code(), Errc::FailedPrecondition);
    EXPECT_NE(db.error().message().find("not a directory"), std::string::npos);
}

TEST(DatabaseOpen, ReopeningAnUpToDateDatabaseWritesNothing) {
    TempDir tmp;
    { ASSERT_OK(Database::open(tmp.path())); }
    const auto data = tmp.path() / "io.containerd.metadata.v1.lmdb" / "data.mdb";
    const auto size = std::filesystem::file_size(data);
    auto before = std::filesystem::last_write_time(data);
    { ASSERT_OK(Database::open(tmp.path())); }
    EXPECT_EQ(std::filesystem::last_write_time(data), before);
    EXPECT_EQ(std::filesystem::file_size(data), size);
}

using Transactions = DatabaseTest;

TEST_F(Transactions, UpdateCommitsOnlyWhenTheFunctionSucceeds) {
    const BucketPath bucket = schema::v1().child("t");
    ASSERT_OK(db().update([&](WriteTxn& txn) { return put_value(txn, bucket, "kept", "1"); }));
    auto failed = db().update([&](WriteTxn& txn) -> Status {
        GANTRY_TRY(put_value(txn, bucket, "dropped", "1"));
        return invalid_argument("no");
    });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().message(), "no");

    auto got = db().view([&](const Txn& txn) -> Result<std::pair<bool, bool>> {
        GANTRY_ASSIGN_OR_RETURN(auto kept, get_value(txn, bucket, "kept"));
        GANTRY_ASSIGN_OR_RETURN(auto dropped, get_value(txn, bucket, "dropped"));
        return std::pair{kept.has_value(), dropped.has_value()};
    });
    ASSERT_OK(got);
    EXPECT_TRUE(got->first);
    EXPECT_FALSE(got->second);
}

TEST_F(Transactions, UpdateReturnsTheFunctionsValue) {
    auto r = db().update([](WriteTxn& txn) -> Result<int> {
        GANTRY_TRY(put_value(txn, schema::v1(), "x", "y"));
        return 42;
    });
    ASSERT_OK(r);
    EXPECT_EQ(*r, 42);
}

TEST_F(Transactions, DataSurvivesReopen) {
    ASSERT_OK(db().update(
        [](WriteTxn& txn) { return put_value(txn, schema::v1().child("a"), "b", "c"); }));
    reopen();
    auto txn = db().begin_read();
    EXPECT_EQ(**get_value(*txn, schema::v1().child("a"), "b"), "c");
}

} // namespace
} // namespace gantry::metadata
