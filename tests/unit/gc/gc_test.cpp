#include "core/gc/gc.hpp"
#include "core/metadata/buckets.hpp"
#include "core/metadata/leases.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/value_encoding.hpp"
#include "metadata_test_util.hpp"

#include <atomic>
#include <gtest/gtest.h>
#include <mutex>
#include <set>
#include <thread>

namespace gantry::gc {
namespace {

namespace md = gantry::metadata;
namespace schema = gantry::metadata::schema;
using Clock = std::chrono::system_clock;

// The content store's disk as the collector sees it.
class FakeBackend final : public ContentBackend {
public:
    void add_blob(const std::string& d) {
        std::lock_guard lk(mu_);
        blobs_.insert(d);
    }
    void add_ingest(const std::string& r) {
        std::lock_guard lk(mu_);
        ingests_.insert(r);
    }
    bool has_blob(const std::string& d) {
        std::lock_guard lk(mu_);
        return blobs_.count(d) != 0;
    }
    bool has_ingest(const std::string& r) {
        std::lock_guard lk(mu_);
        return ingests_.count(r) != 0;
    }
    Result<std::vector<std::string>> list_blobs() override {
        std::lock_guard lk(mu_);
        return std::vector<std::string>(blobs_.begin(), blobs_.end());
    }
    Status delete_blob(const std::string& d) override {
        std::lock_guard lk(mu_);
        if (!blobs_.erase(d)) return not_found(d);
        return ok_status();
    }
    Result<std::vector<std::string>> list_ingests() override {
        std::lock_guard lk(mu_);
        return std::vector<std::string>(ingests_.begin(), ingests_.end());
    }
    Status abort_ingest(const std::string& r) override {
        std::lock_guard lk(mu_);
        if (!ingests_.erase(r)) return not_found(r);
        return ok_status();
    }

private:
    std::mutex mu_;
    std::set<std::string> blobs_;
    std::set<std::string> ingests_;
};

std::string dg(char c) {
    return "sha256:" + std::string(64, c);
}

class Gc : public md::testing::DatabaseTest {
protected:
    // A blob record in `ns` (and the blob on disk).
    void blob(const std::string& ns, const std::string& digest, const md::Labels& labels = {}) {
        write([&](md::WriteTxn& txn) {
            const auto b = schema::blobs_bucket(ns).child(digest);
            ASSERT_OK(md::ensure_namespace(txn, ns));
            ASSERT_OK(md::put_value(txn, b, schema::kSize, md::encode_varint(1)));
            if (!labels.empty()) ASSERT_OK(md::write_labels(txn, b, labels));
        });
        disk.add_blob(digest);
    }
    void image(const std::string& ns, const std::string& name, const std::string& target,
               const md::Labels& labels = {}) {
        write([&](md::WriteTxn& txn) {
            const auto i = schema::object_bucket(ns, schema::kImages).child(name);
            ASSERT_OK(md::put_value(txn, i.child(schema::kTarget), schema::kDigest, target));
            if (!labels.empty()) ASSERT_OK(md::write_labels(txn, i, labels));
        });
    }
    void remove_image(const std::string& ns, const std::string& name) {
        write([&](md::WriteTxn& txn) {
            ASSERT_OK(
                md::delete_bucket(txn, schema::object_bucket(ns, schema::kImages).child(name)));
        });
    }
    void ingest(const std::string& ns, const std::string& ref,
                std::optional<Clock::time_point> expire, const std::string& expected = "") {
        const std::string backend = ns + "/1/" + ref;
        write([&](md::WriteTxn& txn) {
            const auto i = schema::ingests_bucket(ns).child(ref);
            ASSERT_OK(md::put_value(txn, i, schema::kRef, backend));
            if (expire)
                ASSERT_OK(md::put_value(txn, i, schema::kExpireAt,
                                        md::encode_time(md::to_timestamp(*expire))));
            if (!expected.empty()) ASSERT_OK(md::put_value(txn, i, schema::kExpected, expected));
        });
        disk.add_ingest(backend);
    }
    void lease(const std::string& ns, const std::string& id, const md::Labels& labels,
               const std::vector<md::leases::Resource>& resources) {
        write([&](md::WriteTxn& txn) {
            ASSERT_OK(md::leases::create(txn, ns, id, labels));
            for (const auto& r : resources)
                ASSERT_OK(md::leases::add_resource(txn, ns, id, r));
        });
    }
    bool has_record(const std::string& ns, const std::string& digest) {
        auto r = db().view([&](const md::Txn& txn) {
            return md::bucket_exists(txn, schema::blobs_bucket(ns).child(digest));
        });
        return r.ok() && *r;
    }
    bool has_ingest_record(const std::string& ns, const std::string& ref) {
        auto r = db().view([&](const md::Txn& txn) {
            return md::bucket_exists(txn, schema::ingests_bucket(ns).child(ref));
        });
        return r.ok() && *r;
    }
    bool has_lease(const std::string& ns, const std::string& id) {
        auto r = db().view([&](const md::Txn& txn) {
            return md::bucket_exists(txn, schema::object_bucket(ns, schema::kLeases).child(id));
        });
        return r.ok() && *r;
    }
    // Kept = record and data present; collected = both gone.
    bool kept(const std::string& ns, const std::string& digest) {
        return has_record(ns, digest) && disk.has_blob(digest);
    }
    bool collected(const std::string& ns, const std::string& digest) {
        return !has_record(ns, digest) && !disk.has_blob(digest);
    }
    Stats run(Clock::time_point now = Clock::now()) {
        auto s = collect(db(), &disk, now);
        EXPECT_TRUE(s.ok()) << s.error().message();
        return s.ok() ? *s : Stats{};
    }

    FakeBackend disk;
};

TEST_F(Gc, ImageIndexManifestConfigLayersAreKeptTheRestCollected) {
    blob("default", dg('1'), {{"containerd.io/gc.ref.content.m.0", dg('2')}});
    blob("default", dg('2'),
         {{"containerd.io/gc.ref.content.config", dg('3')},
          {"containerd.io/gc.ref.content.l.0", dg('4')},
          {"containerd.io/gc.ref.content.l.1", dg('5')}});
    blob("default", dg('3'));
    blob("default", dg('4'));
    blob("default", dg('5'));
    blob("default", dg('6')); // referenced by nothing
    image("default", "docker.io/library/x:latest", dg('1'));
    Stats s = run();
    for (char c : {'1', '2', '3', '4', '5'})
        EXPECT_TRUE(kept("default", dg(c))) << c;
    EXPECT_TRUE(collected("default", dg('6')));
    EXPECT_EQ(s.blobs, 1u);
    EXPECT_EQ(s.disk_blobs, 1u);

    // Without the image everything goes.
    remove_image("default", "docker.io/library/x:latest");
    s = run();
    for (char c : {'1', '2', '3', '4', '5'})
        EXPECT_TRUE(collected("default", dg(c))) << c;
    EXPECT_EQ(s.blobs, 5u);
}

TEST_F(Gc, ReferenceLabelSpellings) {
    blob("default", dg('1'),
         {{"containerd.io/gc.ref.content", dg('2')},
          {"containerd.io/gc.ref.content/x", dg('3')},
          {"containerd.io/gc.ref.contentnot", dg('4')},
          {"containerd.io/gc.ref.snapshot.overlayfs", "some-key"},
          {"unrelated", dg('5')}});
    for (char c : {'2', '3', '4', '5'})
        blob("default", dg(c));
    image("default", "i", dg('9'), {{"containerd.io/gc.ref.content.x", dg('1')}});
    run();
    EXPECT_TRUE(kept("default", dg('1'))); // through the image's own gc.ref label
    EXPECT_TRUE(kept("default", dg('2')));
    EXPECT_TRUE(kept("default", dg('3')));
    EXPECT_TRUE(collected("default", dg('4')));
    EXPECT_TRUE(collected("default", dg('5')));
}

TEST_F(Gc, GcRootKeepsABlobAndWhatItReferences) {
    blob("default", dg('1'),
         {{"containerd.io/gc.root", "1"}, {"containerd.io/gc.ref.content.0", dg('2')}});
    blob("default", dg('2'));
    blob("default", dg('3'));
    run();
    EXPECT_TRUE(kept("default", dg('1')));
    EXPECT_TRUE(kept("default", dg('2')));
    EXPECT_TRUE(collected("default", dg('3')));
}

TEST_F(Gc, LeasesKeepTheirResourcesUntilTheyExpire) {
    const auto now = Clock::now();
    blob("default", dg('1'), {{"containerd.io/gc.ref.content.0", dg('2')}});
    blob("default", dg('2'));
    blob("default", dg('3'));
    blob("default", dg('4'));
    ingest("default", "held", std::nullopt);
    lease("default", "live",
          {{"containerd.io/gc.expire", format_rfc3339(now + std::chrono::hours(1))}},
          {{dg('1'), "content"}, {"held", "ingests"}});
    lease("default", "expired",
          {{"containerd.io/gc.expire", format_rfc3339(now - std::chrono::seconds(1))}},
          {{dg('3'), "content"}});
    lease("default", "bad-expiry", {{"containerd.io/gc.expire", "tomorrow"}},
          {{dg('4'), "content"}});
    Stats s = run(now);
    EXPECT_TRUE(kept("default", dg('1')));
    EXPECT_TRUE(kept("default", dg('2')));
    EXPECT_TRUE(has_ingest_record("default", "held"));
    EXPECT_TRUE(disk.has_ingest("default/1/held"));
    EXPECT_TRUE(has_lease("default", "live"));
    EXPECT_FALSE(has_lease("default", "expired"));
    EXPECT_TRUE(collected("default", dg('3')));
    EXPECT_TRUE(has_lease("default", "bad-expiry")); // an unparseable expiry never expires
    EXPECT_TRUE(kept("default", dg('4')));
    EXPECT_EQ(s.leases, 1u);

    // An hour later the live lease has expired too, and takes its resources with it.
    s = run(now + std::chrono::hours(2));
    EXPECT_FALSE(has_lease("default", "live"));
    EXPECT_TRUE(collected("default", dg('1')));
    EXPECT_TRUE(collected("default", dg('2')));
    EXPECT_FALSE(has_ingest_record("default", "held"));
    EXPECT_FALSE(disk.has_ingest("default/1/held"));
}

TEST_F(Gc, FlatLeaseKeepsItsContentButNotWhatItReferences) {
    blob("default", dg('1'), {{"containerd.io/gc.ref.content.0", dg('2')}});
    blob("default", dg('2'));
    lease("default", "flat", {{"containerd.io/gc.flat", "1"}}, {{dg('1'), "content"}});
    run();
    EXPECT_TRUE(kept("default", dg('1')));
    EXPECT_TRUE(collected("default", dg('2')));

    // Reached again through an image, the references are followed.
    blob("default", dg('2'));
    image("default", "i", dg('1'));
    run();
    EXPECT_TRUE(kept("default", dg('2')));
}

TEST_F(Gc, IngestsLiveUntilExpireatOrWhileLeased) {
    const auto now = Clock::now();
    ingest("default", "future", now + std::chrono::hours(24), dg('1'));
    ingest("default", "past", now - std::chrono::seconds(1));
    ingest("default", "no-expiry-no-lease", std::nullopt);
    blob("default", dg('1'));            // the future ingest's expected digest
    disk.add_ingest("default/7/orphan"); // on disk without any record
    Stats s = run(now);
    EXPECT_TRUE(has_ingest_record("default", "future"));
    EXPECT_TRUE(disk.has_ingest("default/1/future"));
    EXPECT_TRUE(kept("default", dg('1')));
    EXPECT_FALSE(has_ingest_record("default", "past"));
    EXPECT_FALSE(disk.has_ingest("default/1/past"));
    EXPECT_FALSE(has_ingest_record("default", "no-expiry-no-lease"));
    EXPECT_FALSE(disk.has_ingest("default/7/orphan"));
    EXPECT_EQ(s.ingests, 2u);
    EXPECT_EQ(s.disk_ingests, 3u);
}

TEST_F(Gc, BlobsSharedAcrossNamespacesStayWhileAnyNamespaceHoldsThem) {
    blob("a", dg('1'));
    blob("b", dg('1'));
    image("a", "i", dg('1'));
    Stats s = run();
    EXPECT_TRUE(kept("a", dg('1')));
    EXPECT_FALSE(has_record("b", dg('1'))); // b's unreferenced record goes...
    EXPECT_TRUE(disk.has_blob(dg('1')));    // ...but not the data a still uses
    EXPECT_EQ(s.blobs, 1u);
    EXPECT_EQ(s.disk_blobs, 0u);
    remove_image("a", "i");
    run();
    EXPECT_TRUE(collected("a", dg('1')));
}

TEST_F(Gc, BlobsOnDiskWithoutAnyRecordAreRemoved) {
    disk.add_blob(dg('e'));
    Stats s = run();
    EXPECT_FALSE(disk.has_blob(dg('e')));
    EXPECT_EQ(s.disk_blobs, 1u);
}

TEST_F(Gc, WithoutABackendOnlyMetadataIsCollected) {
    blob("default", dg('1'));
    auto s = collect(db(), nullptr);
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(has_record("default", dg('1')));
    EXPECT_TRUE(disk.has_blob(dg('1')));
}

TEST_F(Gc, ImagesAndNamespacesAreNeverCollected) {
    image("default", "dangling", dg('1')); // a target that does not exist
    run();
    auto r = db().view([&](const md::Txn& txn) {
        return md::bucket_exists(
            txn, schema::object_bucket("default", schema::kImages).child("dangling"));
    });
    EXPECT_TRUE(r.ok() && *r);
}

// Writers commit blobs the way the content store does (data moved into place inside the write
// transaction that records it) while passes run back to back: no recorded blob may lose its data.
TEST_F(Gc, ConcurrentWritesAreNeverLost) {
    std::atomic<bool> done{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
        for (int i = 0; i < 300; ++i) {
            char hex[65];
            std::snprintf(hex, sizeof hex, "%064x", i);
            const std::string d = std::string("sha256:") + hex;
            auto st = db().update([&](md::WriteTxn& txn) -> Status {
                disk.add_blob(d); // the rename into place, under the writer lock
                const auto b = schema::blobs_bucket("default").child(d);
                GANTRY_TRY(md::put_value(txn, b, schema::kSize, md::encode_varint(1)));
                GANTRY_TRY(md::set_label(txn, b, kRootLabel, "1"));
                return ok_status();
            });
            EXPECT_TRUE(st.ok());
            ++written;
        }
        done = true;
    });
    // Meanwhile garbage appears too and must be collected.
    int passes = 0;
    while (!done || passes < 3) {
        disk.add_blob(dg('f'));
        auto s = collect(db(), &disk);
        ASSERT_TRUE(s.ok()) << s.error().message();
        ++passes;
    }
    writer.join();
    run();
    EXPECT_FALSE(disk.has_blob(dg('f')));
    for (int i = 0; i < 300; ++i) {
        char hex[65];
        std::snprintf(hex, sizeof hex, "%064x", i);
        const std::string d = std::string("sha256:") + hex;
        ASSERT_TRUE(kept("default", d)) << d;
    }
    EXPECT_GE(passes, 3);
}

TEST(Rfc3339, ParsesLikeGo) {
    using namespace std::chrono;
    const auto base = sys_days(year(2026) / 1 / 2) + hours(3) + minutes(4) + seconds(5);
    struct Case {
        const char* text;
        std::optional<Clock::time_point> want;
    };
    const std::vector<Case> cases{
        {"2026-01-02T03:04:05Z", base},
        {"2026-01-02T03:04:05.5Z", base + milliseconds(500)},
        {"2026-01-02T03:04:05.123456789Z", base + nanoseconds(123456789)},
        {"2026-01-02T04:04:05+01:00", base},
        {"2026-01-01T22:04:05-05:00", base},
        {"2026-01-02 03:04:05Z", std::nullopt},
        {"2026-01-02T03:04:05", std::nullopt},
        {"2026-02-30T03:04:05Z", std::nullopt},
        {"2026-01-02T03:04:05.Z", std::nullopt},
        {"tomorrow", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& c : cases) {
        auto got = parse_rfc3339(c.text);
        EXPECT_EQ(got.has_value(), c.want.has_value()) << c.text;
        if (got && c.want) EXPECT_EQ(*got, *c.want) << c.text;
    }
    EXPECT_EQ(format_rfc3339(Clock::time_point(base)), "2026-01-02T03:04:05Z");
}

} // namespace
} // namespace gantry::gc
