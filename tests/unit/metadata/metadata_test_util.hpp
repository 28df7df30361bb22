// Shared by the metadata tests: a database in a temp dir, and raw access to its keys.
#pragma once

#include "core/metadata/database.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <string>
#include <utility>
#include <vector>

namespace gantry::metadata::testing {

// Fails the current test (and returns the error's text) when a result is not ok.
#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        auto&& assert_ok_r_ = (expr);                                                              \
        ASSERT_TRUE(assert_ok_r_.ok()) << assert_ok_r_.error().message();                          \
    } while (0)
#define EXPECT_OK(expr)                                                                            \
    do {                                                                                           \
        auto&& expect_ok_r_ = (expr);                                                              \
        EXPECT_TRUE(expect_ok_r_.ok()) << expect_ok_r_.error().message();                          \
    } while (0)

class DatabaseTest : public ::testing::Test {
protected:
    void SetUp() override { reopen(); }

    void reopen() {
        db_.reset();
        auto db = Database::open(tmp_.path());
        ASSERT_TRUE(db.ok()) << db.error().message();
        db_.emplace(std::move(db).value());
    }

    Database& db() { return *db_; }

    // Runs fn in a write transaction and commits; fails the test on error.
    template <typename F>
    void write(F&& fn) {
        auto r = db_->update([&](WriteTxn& txn) -> Status {
            fn(txn);
            return ok_status();
        });
        ASSERT_TRUE(r.ok()) << r.error().message();
    }

    // Every key and value in the database, in order.
    std::vector<std::pair<std::string, std::string>> dump() {
        std::vector<std::pair<std::string, std::string>> all;
        auto txn = db_->begin_read();
        EXPECT_TRUE(txn.ok());
        auto cursor = txn->cursor();
        auto entry = cursor->seek(std::string(1, '\0'));
        while (entry.ok() && entry->has_value()) {
            all.emplace_back((*entry)->key, (*entry)->value);
            entry = cursor->next();
        }
        return all;
    }

    TempDir tmp_;
    std::optional<Database> db_;
};

} // namespace gantry::metadata::testing
