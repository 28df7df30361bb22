#include "../metadata/temp_dir.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/images.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <optional>

namespace gantry::metadata::images {
namespace {

using gantry::images::Image;

constexpr char kDigest[] =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char kDigest2[] =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kManifest[] = "application/vnd.oci.image.manifest.v1+json";

Image make(std::string name, std::map<std::string, std::string> labels = {}) {
    Image img;
    img.name = std::move(name);
    img.labels = std::move(labels);
    img.target.digest = kDigest;
    img.target.media_type = kManifest;
    img.target.size = 1234;
    return img;
}

class ImagesStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = Database::open(tmp_.path());
        ASSERT_TRUE(db.ok()) << db.error().message();
        db_.emplace(std::move(db).value());
    }

    Result<Image> create(std::string_view ns, const Image& img, Timestamp now = {100, 5}) {
        return db_->update([&](WriteTxn& txn) { return images::create(txn, ns, img, now); });
    }
    Result<Image> update(std::string_view ns, const Image& img, std::vector<std::string> paths,
                         Timestamp now = {200, 0}) {
        return db_->update([&](WriteTxn& txn) { return images::update(txn, ns, img, paths, now); });
    }
    Result<Image> get(std::string_view ns, std::string_view name) {
        return db_->view([&](const Txn& txn) { return images::get(txn, ns, name); });
    }
    Status remove(std::string_view ns, std::string_view name) {
        return db_->update([&](WriteTxn& txn) { return images::remove(txn, ns, name); });
    }
    std::vector<std::string> names(std::string_view ns, std::vector<std::string> fs = {}) {
        auto f = filters::parse(fs);
        EXPECT_TRUE(f.ok()) << f.error().message();
        auto l = db_->view([&](const Txn& txn) { return images::list(txn, ns, *f); });
        EXPECT_TRUE(l.ok()) << l.error().message();
        std::vector<std::string> out;
        for (const auto& i : *l)
            out.push_back(i.name);
        return out;
    }

    testing::TempDir tmp_;
    std::optional<Database> db_;
};

TEST_F(ImagesStoreTest, CreateGetRoundTripsEveryField) {
    Image img = make("docker.io/library/busybox:latest", {{"a", "1"}, {"empty", ""}});
    img.target.annotations = {{"org.opencontainers.image.ref.name", "latest"}};
    auto created = create("default", img);
    ASSERT_TRUE(created.ok()) << created.error().message();
    EXPECT_EQ(created->created_at, (Timestamp{100, 5}));
    EXPECT_EQ(created->updated_at, (Timestamp{100, 5}));
    auto got = get("default", img.name);
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(*got, *created);
    EXPECT_EQ(got->labels, (std::map<std::string, std::string>{{"a", "1"}})); // "" not stored
    EXPECT_EQ(got->target.annotations.at("org.opencontainers.image.ref.name"), "latest");
    EXPECT_EQ(got->target.size, 1234);
}

TEST_F(ImagesStoreTest, CreateRejectsDuplicatesAndBadInput) {
    ASSERT_TRUE(create("default", make("x")).ok());
    auto dup = create("default", make("x"));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code(), Errc::AlreadyExists);
    EXPECT_EQ(dup.error().wire_message(), "image \"x\": already exists");

    auto code = [&](Image img) {
        auto r = create("default", img);
        return r.ok() ? Errc::Unknown : r.error().code();
    };
    EXPECT_EQ(code(make("")), Errc::InvalidArgument);
    Image no_target = make("t1");
    no_target.target = {};
    EXPECT_EQ(code(no_target), Errc::InvalidArgument);
    Image bad_digest = make("t2");
    bad_digest.target.digest = "sha256:abc";
    EXPECT_EQ(code(bad_digest), Errc::InvalidArgument);
    Image zero = make("t3");
    zero.target.size = 0;
    EXPECT_EQ(code(zero), Errc::InvalidArgument);
    Image no_type = make("t4");
    no_type.target.media_type.clear();
    EXPECT_EQ(code(no_type), Errc::InvalidArgument);
    Image big_label = make("t5", {{"k", std::string(5000, 'v')}});
    EXPECT_EQ(code(big_label), Errc::InvalidArgument);
    // Nothing of the refused creates was kept, and the first image is intact.
    EXPECT_EQ(names("default"), std::vector<std::string>{"x"});
    EXPECT_TRUE(get("default", "x").ok());
}

TEST_F(ImagesStoreTest, UpdateMasks) {
    Image img = make("x", {{"a", "1"}, {"b", "2"}});
    img.target.annotations = {{"n1", "v1"}};
    ASSERT_TRUE(create("default", img).ok());

    // labels.<k>: set one, delete one (no value in the request)
    Image req;
    req.name = "x";
    req.labels = {{"a", "10"}};
    auto u = update("default", req, {"labels.a", "labels.b"});
    ASSERT_TRUE(u.ok()) << u.error().message();
    EXPECT_EQ(u->labels, (std::map<std::string, std::string>{{"a", "10"}}));
    EXPECT_EQ(u->target.digest, kDigest); // untouched
    EXPECT_EQ(u->created_at, (Timestamp{100, 5}));
    EXPECT_EQ(u->updated_at, (Timestamp{200, 0}));

    // labels: replace all
    req.labels = {{"z", "26"}};
    u = update("default", req, {"labels"});
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->labels, (std::map<std::string, std::string>{{"z", "26"}}));

    // annotations.<k> and annotations
    req.target.annotations = {{"n2", "v2"}};
    u = update("default", req, {"annotations.n2"});
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->target.annotations,
              (std::map<std::string, std::string>{{"n1", "v1"}, {"n2", "v2"}}));
    u = update("default", req, {"annotations"});
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->target.annotations, (std::map<std::string, std::string>{{"n2", "v2"}}));

    // target: replaced as a unit, and validated
    req.target.digest = kDigest2;
    req.target.media_type = "application/vnd.oci.image.index.v1+json";
    req.target.size = 99;
    u = update("default", req, {"target"});
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->target.digest, kDigest2);
    EXPECT_EQ(u->target.size, 99);
    Image bad = req;
    bad.target.size = -1;
    auto r = update("default", bad, {"target"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument);

    // unknown path
    r = update("default", req, {"name"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(r.error().message(), "cannot update \"name\" field on image \"x\"");

    // no mask: replaces the whole image, keeps created_at
    Image whole = make("x", {{"only", "1"}});
    u = update("default", whole, {});
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->labels, whole.labels);
    EXPECT_TRUE(u->target.annotations.empty());
    EXPECT_EQ(u->created_at, (Timestamp{100, 5}));
    EXPECT_EQ(*get("default", "x"), *u);

    // missing image
    whole.name = "missing";
    r = update("default", whole, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::NotFound);
}

TEST_F(ImagesStoreTest, DeleteAndNotFound) {
    ASSERT_TRUE(create("default", make("x")).ok());
    ASSERT_TRUE(remove("default", "x").ok());
    auto again = remove("default", "x");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().wire_message(), "image \"x\": not found");
    auto g = get("default", "x");
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code(), Errc::NotFound);
}

TEST_F(ImagesStoreTest, NamespacesAreIsolated) {
    ASSERT_TRUE(create("ns1", make("shared", {{"ns", "1"}})).ok());
    ASSERT_TRUE(create("ns2", make("shared", {{"ns", "2"}})).ok()); // same name, no conflict
    ASSERT_TRUE(create("ns2", make("only2")).ok());
    EXPECT_EQ(names("ns1"), std::vector<std::string>{"shared"});
    EXPECT_EQ(names("ns2"), (std::vector<std::string>{"only2", "shared"}));
    EXPECT_EQ(get("ns1", "shared")->labels.at("ns"), "1");
    EXPECT_FALSE(get("ns1", "only2").ok());
    ASSERT_TRUE(remove("ns1", "shared").ok());
    EXPECT_TRUE(get("ns2", "shared").ok());
    EXPECT_FALSE(remove("ns1", "only2").ok());
    EXPECT_TRUE(names("ns3").empty());
}

TEST_F(ImagesStoreTest, ListFilters) {
    Image a = make("docker.io/library/a:1", {{"role", "app"}, {"containerd.io/gc.root", "x"}});
    a.target.annotations = {{"ann", "yes"}};
    Image b = make("docker.io/library/b:1", {{"role", "db"}});
    b.target.digest = kDigest2;
    b.target.media_type = "application/vnd.oci.image.index.v1+json";
    Image c = make("quay.io/c:2");
    for (const auto& i : {a, b, c})
        ASSERT_TRUE(create("default", i).ok());

    using V = std::vector<std::string>;
    EXPECT_EQ(names("default"), (V{a.name, b.name, c.name}));
    EXPECT_EQ(names("default", {"name==quay.io/c:2"}), V{c.name});
    EXPECT_EQ(names("default", {"name~=docker.io"}), (V{a.name, b.name}));
    EXPECT_EQ(names("default", {std::string("target.digest==") + kDigest2}), V{b.name});
    EXPECT_EQ(names("default", {"target.mediatype==\"application/vnd.oci.image.index.v1+json\""}),
              V{b.name});
    EXPECT_EQ(names("default", {"labels.role==app"}), V{a.name});
    EXPECT_EQ(names("default", {"labels.role"}), (V{a.name, b.name}));
    EXPECT_EQ(names("default", {"labels.\"containerd.io/gc.root\""}), V{a.name});
    EXPECT_EQ(names("default", {"annotations.ann==yes"}), V{a.name});
    EXPECT_EQ(names("default", {"labels.role==db", "name==quay.io/c:2"}), (V{b.name, c.name}));
    EXPECT_EQ(names("default", {"labels.role!=app"}), (V{b.name, c.name}));
    EXPECT_EQ(names("default", {"labels.role==app,name==nope"}), V{});
}

TEST_F(ImagesStoreTest, ListingTenThousandImagesIsFast) {
    ASSERT_TRUE(db_->update([&](WriteTxn& txn) -> Status {
                       for (int i = 0; i < 10000; ++i) {
                           auto r = images::create(txn, "default",
                                                   make("registry.example/img:" + std::to_string(i),
                                                        {{"n", std::to_string(i)}}),
                                                   Timestamp{1, 0});
                           if (!r.ok()) return r.error();
                       }
                       return ok_status();
                   })
                    .ok());
    const auto start = std::chrono::steady_clock::now();
    auto all = names("default");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(all.size(), 10000u);
    // About 120 ms on the development machine; the bound is generous for loaded CI machines.
    EXPECT_LT(elapsed, std::chrono::seconds(1))
        << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
    RecordProperty(
        "list_10000_ms",
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

} // namespace
} // namespace gantry::metadata::images
