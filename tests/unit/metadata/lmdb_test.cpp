#include "core/metadata/lmdb.hpp"
#include "temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <thread>

namespace gantry::metadata {
namespace {

using testing::TempDir;

Env open_env(const std::filesystem::path& dir, EnvOptions options = {}) {
    auto env = Env::open(dir, options);
    if (!env.ok()) ADD_FAILURE() << env.error().message();
    return std::move(env).value();
}

std::optional<std::string> read(const Env& env, std::string_view key) {
    auto txn = env.begin_read();
    EXPECT_TRUE(txn.ok());
    auto v = txn->get(key);
    EXPECT_TRUE(v.ok());
    if (!v->has_value()) return std::nullopt;
    return std::string(**v);
}

TEST(Lmdb, MissingDirectoryIsAnErrorNamingThePath) {
    TempDir tmp;
    auto missing = tmp.path() / "nope";
    auto env = Env::open(missing);
    ASSERT_FALSE(env.ok());
    EXPECT_EQ(env.error().code(), Errc::NotFound);
    EXPECT_NE(env.error().message().find(missing.string()), std::string::npos)
        << env.error().message();
}

TEST(Lmdb, FileInsteadOfDirectoryIsAnError) {
    TempDir tmp;
    auto file = tmp.path() / "file";
    std::ofstream(file) << "x";
    auto env = Env::open(file);
    ASSERT_FALSE(env.ok());
    EXPECT_NE(env.error().message().find(file.string()), std::string::npos);
}

TEST(Lmdb, CommittedWritesAreVisibleAndSurviveReopen) {
    TempDir tmp;
    {
        Env env = open_env(tmp.path());
        auto txn = env.begin_write();
        ASSERT_TRUE(txn.ok());
        ASSERT_TRUE(txn->put("k", "v").ok());
        ASSERT_TRUE(txn->put(std::string("\0\xff", 2), std::string("\0", 1)).ok());
        ASSERT_TRUE(txn->commit().ok());
    }
    Env env = open_env(tmp.path());
    EXPECT_EQ(read(env, "k"), "v");
    EXPECT_EQ(read(env, std::string("\0\xff", 2)), std::string("\0", 1));
    EXPECT_EQ(read(env, "absent"), std::nullopt);
}

TEST(Lmdb, UncommittedTransactionIsAbortedByItsDestructor) {
    TempDir tmp;
    Env env = open_env(tmp.path());
    {
        auto txn = env.begin_write();
        ASSERT_TRUE(txn->put("k", "v").ok());
    }
    EXPECT_EQ(read(env, "k"), std::nullopt);
    // The writer lock was released: another write can begin.
    auto txn = env.begin_write();
    ASSERT_TRUE(txn.ok());
    EXPECT_TRUE(txn->commit().ok());
    EXPECT_FALSE(txn->commit().ok()); // a finished transaction cannot commit again
}

TEST(Lmdb, DeleteReportsWhetherTheKeyExisted) {
    TempDir tmp;
    Env env = open_env(tmp.path());
    auto txn = env.begin_write();
    ASSERT_TRUE(txn->put("k", "v").ok());
    EXPECT_TRUE(*txn->del("k"));
    EXPECT_FALSE(*txn->del("k"));
    EXPECT_TRUE(txn->commit().ok());
}

TEST(Lmdb, ReadersKeepTheirSnapshotWhileAWriterCommits) {
    TempDir tmp;
    Env env = open_env(tmp.path());
    {
        auto w = env.begin_write();
        ASSERT_TRUE(w->put("k", "old").ok());
        ASSERT_TRUE(w->commit().ok());
    }
    auto reader = env.begin_read();
    ASSERT_TRUE(reader.ok());
    {
        // Begins and commits while the reader is open: readers never block the writer.
        auto w = env.begin_write();
        ASSERT_TRUE(w.ok());
        ASSERT_TRUE(w->put("k", "new").ok());
        ASSERT_TRUE(w->commit().ok());
    }
    EXPECT_EQ(**reader->get("k"), "old");
    EXPECT_EQ(read(env, "k"), "new");

    // MDB_NOTLS: the read transaction may be finished on another thread.
    std::string seen;
    std::thread other([&] { seen = std::string(**reader->get("k")); });
    other.join();
    EXPECT_EQ(seen, "old");
}

TEST(Lmdb, CursorSeeksAndWalksInByteOrder) {
    TempDir tmp;
    Env env = open_env(tmp.path());
    auto w = env.begin_write();
    for (const char* k : {"b", "a", "c\xff", "c"})
        ASSERT_TRUE(w->put(k, k).ok());
    ASSERT_TRUE(w->commit().ok());

    auto r = env.begin_read();
    auto cursor = r->cursor();
    ASSERT_TRUE(cursor.ok());
    auto e = cursor->seek("bb");
    ASSERT_TRUE(e.ok() && e->has_value());
    EXPECT_EQ((*e)->key, "c");
    e = cursor->next();
    EXPECT_EQ((*e)->key, "c\xff");
    e = cursor->next();
    EXPECT_FALSE(e->has_value());
}

TEST(Lmdb, FullMapIsResourceExhaustedAndPoisonsTheTransaction) {
    TempDir tmp;
    Env env = open_env(tmp.path(), EnvOptions{.map_size = 256 * 1024, .max_readers = 16});
    auto w = env.begin_write();
    ASSERT_TRUE(w.ok());
    const std::string value(4000, 'v');
    Status last = ok_status();
    for (int i = 0; i < 1000 && last.ok(); ++i)
        last = w->put("key" + std::to_string(i), value);
    ASSERT_FALSE(last.ok());
    EXPECT_EQ(last.error().code(), Errc::ResourceExhausted) << last.error().message();
    // Later writes and the commit report the same failure; nothing is written.
    EXPECT_EQ(w->put("x", "y").error().code(), Errc::ResourceExhausted);
    auto committed = w->commit();
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().code(), Errc::ResourceExhausted);
    EXPECT_EQ(read(env, "key0"), std::nullopt);
}

TEST(Lmdb, OversizedKeyIsInvalidArgument) {
    TempDir tmp;
    Env env = open_env(tmp.path());
    EXPECT_EQ(env.max_key_size(), 511u);
    auto w = env.begin_write();
    auto put = w->put(std::string(env.max_key_size() + 1, 'k'), "v");
    ASSERT_FALSE(put.ok());
    EXPECT_EQ(put.error().code(), Errc::InvalidArgument);
}

TEST(Lmdb, ErrorClassesForLmdbCodes) {
    EXPECT_EQ(lmdb_error(MDB_MAP_FULL, "x").code(), Errc::ResourceExhausted);
    EXPECT_EQ(lmdb_error(MDB_READERS_FULL, "x").code(), Errc::ResourceExhausted);
    EXPECT_EQ(lmdb_error(MDB_CORRUPTED, "x").code(), Errc::DataLoss);
    EXPECT_EQ(lmdb_error(MDB_VERSION_MISMATCH, "x").code(), Errc::FailedPrecondition);
    EXPECT_EQ(lmdb_error(EACCES, "x").code(), Errc::PermissionDenied);
    EXPECT_EQ(lmdb_error(MDB_BAD_TXN, "ctx").message().rfind("ctx: ", 0), 0u);
}

} // namespace
} // namespace gantry::metadata
