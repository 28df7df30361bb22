// The fixture of the SnapshotStore suite: a metadata database in a temp dir and one backend,
// chosen by the test parameter (the in-memory fake, or a real snapshotter from snapshotters/).
#pragma once

#include "core/gc/collector.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/snapshots.hpp"
#include "core/snapshots/snapshotter.hpp"
#include "fake_snapshotter.hpp"
#include "metadata_test_util.hpp"

#include <atomic>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <thread>

namespace gantry::snapshots::testing {

enum class BackendKind { fake, native };

inline std::string backend_kind_name(const ::testing::TestParamInfo<BackendKind>& p) {
    return p.param == BackendKind::fake ? "fake" : "native";
}

// Defined in snapshot_store_backends.cpp: the backend for `kind` rooted at `dir`; null (and the
// test is skipped) when that backend cannot run here.
std::shared_ptr<Snapshotter> make_backend(BackendKind kind, const std::filesystem::path& dir);

template <typename R>
Errc code(const R& r) {
    return r.ok() ? static_cast<Errc>(0) : r.error().code();
}

class CountingCollector final : public gc::Collector {
public:
    void mark_dirty() override { ++dirty; }
    Status collect_now() override { return {}; }
    std::atomic<int> dirty{0};
};

class SnapshotStoreTest : public ::testing::TestWithParam<BackendKind> {
protected:
    static constexpr std::string_view kName = "testsn";

    void SetUp() override {
        std::filesystem::create_directories(tmp_.path() / "meta");
        auto db = metadata::Database::open(tmp_.path() / "meta");
        ASSERT_TRUE(db.ok()) << db.error().message();
        db_ = std::make_shared<metadata::Database>(std::move(db).value());
        backend_ = make_backend(GetParam(), tmp_.path() / "backend");
        if (!backend_) GTEST_SKIP() << "backend not available here";
        collector = std::make_shared<CountingCollector>();
        store_ =
            std::make_shared<metadata::SnapshotStore>(db_, std::string(kName), backend_, collector);
    }

    metadata::SnapshotStore& store() { return *store_; }
    metadata::Database& db() { return *db_; }
    Snapshotter& backend() { return *backend_; }
    FakeSnapshotter* fake() { return dynamic_cast<FakeSnapshotter*>(backend_.get()); }

    std::string backend_key(std::string_view ns, std::string_view key) {
        auto rd = db_->begin_read();
        auto v =
            metadata::get_value(*rd, metadata::schema::snapshotter_bucket(ns, kName).child(key),
                                metadata::schema::kName);
        return v.ok() && v->has_value() ? std::string(**v) : std::string();
    }
    bool backend_has(const std::string& bkey) { return backend_->stat(bkey).ok(); }
    std::size_t backend_size() {
        std::size_t n = 0;
        (void)backend_->walk(nullptr, [&](const Info&) -> Status {
            ++n;
            return {};
        });
        return n;
    }

    metadata::testing::TempDir tmp_;
    std::shared_ptr<metadata::Database> db_;
    std::shared_ptr<Snapshotter> backend_;
    std::shared_ptr<metadata::SnapshotStore> store_;
    std::shared_ptr<CountingCollector> collector;
};

} // namespace gantry::snapshots::testing
