#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/value_encoding.hpp"
#include "metadata_test_util.hpp"

#include <gtest/gtest.h>

namespace gantry::metadata {
namespace {

using testing::DatabaseTest;

class Namespaces : public DatabaseTest {
protected:
    NamespaceStore& store() {
        if (!store_) store_.emplace(db());
        return *store_;
    }
    Labels get(std::string_view name) {
        auto labels = store().get(name);
        EXPECT_TRUE(labels.ok()) << labels.error().message();
        return labels.ok() ? *labels : Labels{};
    }
    std::vector<std::string> names() {
        auto list = store().list();
        EXPECT_TRUE(list.ok());
        return *list;
    }
    Status update(std::string_view name, const Labels& labels,
                  std::vector<std::string> paths = {}) {
        return store().update_labels(name, labels, paths);
    }
    void seed(const BucketPath& bucket, std::string_view key) {
        write([&](WriteTxn& txn) { ASSERT_OK(put_value(txn, bucket, key, "x")); });
    }

    std::optional<NamespaceStore> store_;
};

TEST_F(Namespaces, CreateGetList) {
    ASSERT_OK(store().create("default", {}));
    ASSERT_OK(store().create("k8s.io", {{"containerd.io/defaults/snapshotter", "native"}}));
    EXPECT_EQ(names(), (std::vector<std::string>{"default", "k8s.io"}));
    EXPECT_TRUE(get("default").empty());
    EXPECT_EQ(get("k8s.io"), (Labels{{"containerd.io/defaults/snapshotter", "native"}}));
}

TEST_F(Namespaces, GetOfAMissingNamespaceIsEmptyNotNotFound) {
    EXPECT_TRUE(get("nope").empty());
    EXPECT_TRUE(get("not an identifier").empty());
    EXPECT_TRUE(names().empty());
}

TEST_F(Namespaces, CreateValidates) {
    auto bad_name = store().create("bad name", {});
    ASSERT_FALSE(bad_name.ok());
    EXPECT_EQ(bad_name.error().code(), Errc::InvalidArgument);

    auto big = store().create("ns", {{"key", std::string(4094, 'v')}});
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(big.error().message(), "namespace.Labels: label key and value greater than maximum "
                                     "size (4096 bytes), key: key");
    EXPECT_TRUE(names().empty()) << "a refused create must not leave the namespace behind";
}

TEST_F(Namespaces, DuplicateCreateIsAlreadyExists) {
    ASSERT_OK(store().create("dup", {{"a", "1"}}));
    auto again = store().create("dup", {{"b", "2"}});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), Errc::AlreadyExists);
    EXPECT_EQ(again.error().wire_message(), "namespace \"dup\": already exists");
    EXPECT_EQ(get("dup"), (Labels{{"a", "1"}}));
}

TEST_F(Namespaces, NamespacesCreatedImplicitlyByWritesAreListed) {
    write([&](WriteTxn& txn) { ASSERT_OK(ensure_namespace(txn, "implicit")); });
    seed(schema::object_bucket("other", schema::kImages).child("img"), "createdat");
    EXPECT_EQ(names(), (std::vector<std::string>{"implicit", "other"}));
    auto bad = db().update([](WriteTxn& txn) { return ensure_namespace(txn, "a/b"); });
    EXPECT_EQ(bad.error().code(), Errc::InvalidArgument);
}

TEST_F(Namespaces, ListIgnoresTheVersionValueButNotANamespaceCalledVersion) {
    ASSERT_OK(store().create("a", {}));
    EXPECT_EQ(names(), (std::vector<std::string>{"a"}));
    ASSERT_OK(store().create("version", {}));
    EXPECT_EQ(names(), (std::vector<std::string>{"a", "version"}));
    ASSERT_OK(store().remove("version"));
    // The schema version is untouched.
    auto txn = db().begin_read();
    EXPECT_TRUE(get_value(*txn, schema::v1(), schema::kVersion)->has_value());
}

TEST_F(Namespaces, UpdateWithoutMaskReplacesAllLabels) {
    ASSERT_OK(store().create("ns", {{"a", "1"}, {"b", "2"}}));
    ASSERT_OK(update("ns", {{"b", "20"}, {"c", "3"}, {"d", ""}}));
    EXPECT_EQ(get("ns"), (Labels{{"b", "20"}, {"c", "3"}}));
    ASSERT_OK(update("ns", {}));
    EXPECT_TRUE(get("ns").empty());
    EXPECT_EQ(names(), (std::vector<std::string>{"ns"}));
}

TEST_F(Namespaces, UpdateWithMaskTouchesOnlyTheNamedLabels) {
    ASSERT_OK(store().create("ns", {{"a", "1"}, {"b", "2"}, {"c", "3"}}));
    // labels.a set, labels.b absent from the request → deleted, c untouched, x not in the mask.
    ASSERT_OK(update("ns", {{"a", "10"}, {"x", "ignored"}}, {"labels.a", "labels.b"}));
    EXPECT_EQ(get("ns"), (Labels{{"a", "10"}, {"c", "3"}}));
    // An empty value in the request also deletes.
    ASSERT_OK(update("ns", {{"c", ""}}, {"labels.c"}));
    EXPECT_EQ(get("ns"), (Labels{{"a", "10"}}));
    // Keys may contain dots: everything after the first "labels." is the key.
    ASSERT_OK(update("ns", {{"containerd.io/defaults/runtime", "io.containerd.runc.v2"}},
                     {"labels.containerd.io/defaults/runtime"}));
    EXPECT_EQ(get("ns").at("containerd.io/defaults/runtime"), "io.containerd.runc.v2");
}

TEST_F(Namespaces, UpdateMaskRejectsOtherPaths) {
    ASSERT_OK(store().create("ns", {{"a", "1"}}));
    for (std::string path : {"labels", "name", "labels_a", "Labels.a", ""}) {
        auto r = update("ns", {{"a", "2"}}, {"labels.a", path});
        ASSERT_FALSE(r.ok()) << path;
        EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
        EXPECT_EQ(r.error().message(), "cannot update \"" + path + "\" field");
    }
    // The whole update is one transaction: the valid path before the bad one did not stick.
    EXPECT_EQ(get("ns"), (Labels{{"a", "1"}}));
}

TEST_F(Namespaces, UpdateValidatesLabelsAndName) {
    ASSERT_OK(store().create("ns", {}));
    auto big = update("ns", {{"k", std::string(4096, 'v')}}, {"labels.k"});
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(big.error().message().rfind("namespace.Labels: label key and value", 0), 0u);
    auto big_nomask = update("ns", {{"k", std::string(4096, 'v')}});
    EXPECT_EQ(big_nomask.error().code(), Errc::InvalidArgument);
    auto empty_key = update("ns", {{"", "v"}}, {"labels."});
    EXPECT_EQ(empty_key.error().code(), Errc::InvalidArgument);
    auto bad_name = update("not valid", {{"a", "b"}});
    EXPECT_EQ(bad_name.error().code(), Errc::InvalidArgument);
}

// containerd's store creates the namespace when Update sets a label on a missing one.
TEST_F(Namespaces, UpdateOfAMissingNamespaceCreatesItLikeContainerd) {
    ASSERT_OK(update("fresh", {}));
    EXPECT_TRUE(names().empty()) << "nothing to write, so nothing is created";
    ASSERT_OK(update("fresh", {{"a", "1"}}));
    EXPECT_EQ(names(), (std::vector<std::string>{"fresh"}));
    EXPECT_EQ(get("fresh"), (Labels{{"a", "1"}}));
    ASSERT_OK(update("masked", {}, {"labels.a"}));
    EXPECT_EQ(names(), (std::vector<std::string>{"fresh", "masked"}));
}

TEST_F(Namespaces, RemoveMissingIsNotFound) {
    auto r = store().remove("ghost");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::NotFound);
    EXPECT_EQ(r.error().wire_message(), "namespace \"ghost\": not found");
}

TEST_F(Namespaces, RemoveDeletesLabelsLeasesAndIngests) {
    ASSERT_OK(store().create("ns", {{"a", "1"}}));
    seed(schema::object_bucket("ns", schema::kLeases).child("lease1"), "createdat");
    seed(schema::ingests_bucket("ns").child("ref1"), "ref");
    // Empty object buckets do not block either.
    write([&](WriteTxn& txn) {
        ASSERT_OK(ensure_bucket(txn, schema::object_bucket("ns", schema::kImages)));
        ASSERT_OK(ensure_bucket(txn, schema::snapshotter_bucket("ns", "overlayfs")));
    });
    ASSERT_OK(store().remove("ns"));
    EXPECT_TRUE(names().empty());
    auto txn = db().begin_read();
    EXPECT_TRUE(*bucket_empty(*txn, schema::namespace_bucket("ns")));
    EXPECT_FALSE(*bucket_exists(*txn, schema::namespace_bucket("ns")));
}

TEST_F(Namespaces, RemoveOfANonEmptyNamespaceNamesWhatRemains) {
    ASSERT_OK(store().create("busy", {}));
    auto message = [&] {
        auto r = store().remove("busy");
        EXPECT_FALSE(r.ok());
        if (r.ok()) return std::string();
        EXPECT_EQ(r.error().code(), Errc::FailedPrecondition);
        return r.error().message();
    };
    seed(schema::snapshotter_bucket("busy", "overlayfs").child("sha256:abc"), "name");
    EXPECT_EQ(message(),
              "namespace \"busy\" must be empty, but it still has snapshots on \"overlayfs\" "
              "snapshotter");
    seed(schema::object_bucket("busy", schema::kImages).child("docker.io/library/busybox:latest"),
         "createdat");
    seed(schema::blobs_bucket("busy").child("sha256:0123"), "size");
    seed(schema::object_bucket("busy", schema::kContainers).child("c1"), "image");
    seed(schema::snapshotter_bucket("busy", "native").child("k"), "name");
    EXPECT_EQ(message(), "namespace \"busy\" must be empty, but it still has images, blobs, "
                         "containers, snapshots on \"native\" snapshotter, snapshots on "
                         "\"overlayfs\" snapshotter");
    EXPECT_EQ(names(), (std::vector<std::string>{"busy"}));
}

TEST_F(Namespaces, OperationsComposeInOneTransaction) {
    // A later service can create and label atomically, and see its own writes.
    auto r = db().update([](WriteTxn& txn) -> Status {
        GANTRY_TRY(namespaces::create(txn, "one", {}));
        GANTRY_TRY(namespaces::update(txn, "one", {{"k", "v"}}, {}));
        GANTRY_ASSIGN_OR_RETURN(Labels labels, namespaces::labels(txn, "one"));
        if (labels.size() != 1) return internal_error("own write not visible");
        return namespaces::create(txn, "one", {}); // fails: the whole transaction is dropped
    });
    EXPECT_EQ(r.error().code(), Errc::AlreadyExists);
    EXPECT_TRUE(names().empty());
}

} // namespace
} // namespace gantry::metadata
