// Namespaces are kept apart by the key structure itself: every name is one escaped component,
// so no namespace, object or label name can produce a key inside another namespace's range.
#include "core/metadata/buckets.hpp"
#include "core/metadata/namespaces.hpp"
#include "core/metadata/schema.hpp"
#include "metadata_test_util.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>

namespace gantry::metadata {
namespace {

using namespace std::string_literals;
using testing::DatabaseTest;
using Isolation = DatabaseTest;

// Names next to each other in byte order, or spelling pieces of the encoding.
const std::vector<std::string> kNamespaces = {
    "a", "a\0b"s, "ab", "a\0"s, "a/b", "a\0\x01"s, "..", "", "a\xff", "a\0\x01images\0\x01"s};

const std::vector<std::string> kObjectNames = {"x",
                                               "../a",
                                               "/",
                                               "..",
                                               "\0"s,
                                               "x\0\x01"s,
                                               "x\0\x02"s,
                                               "\0\x01"
                                               "ab\0\x01"s,
                                               "\xff\xff",
                                               std::string(200, '\0'),
                                               "images",
                                               "labels"};

std::string tag(const std::string& ns) {
    return "tag:" + ns;
}

TEST_F(Isolation, EachNamespaceSeesOnlyItsOwnObjects) {
    write([&](WriteTxn& txn) {
        for (const auto& ns : kNamespaces)
            for (const auto& name : kObjectNames) {
                ASSERT_OK(put_value(txn, schema::object_bucket(ns, schema::kImages).child(name),
                                    schema::kName, tag(ns)));
                ASSERT_OK(set_label(txn, schema::namespace_bucket(ns), name, tag(ns)));
            }
    });
    auto txn = db().begin_read();
    for (const auto& ns : kNamespaces) {
        // A raw scan of the namespace's range holds only entries tagged with this namespace
        // (markers are empty, a long name's marker holds the name, and a value under a long name
        // starts with the name).
        const std::string prefix = schema::namespace_bucket(ns).prefix();
        auto cursor = txn->cursor();
        std::size_t tagged = 0;
        for (auto e = cursor->seek(prefix);
             e->has_value() && (*e)->key.substr(0, prefix.size()) == prefix; e = cursor->next()) {
            auto value = (*e)->value;
            if (value.empty() || value == std::string(200, '\0')) continue;
            EXPECT_TRUE(value.ends_with(tag(ns))) << ::testing::PrintToString(ns);
            ++tagged;
        }
        EXPECT_EQ(tagged, 2 * kObjectNames.size()) << ::testing::PrintToString(ns);

        auto images = list_buckets(*txn, schema::object_bucket(ns, schema::kImages));
        ASSERT_OK(images);
        auto want = kObjectNames;
        std::sort(want.begin(), want.end());
        EXPECT_EQ(*images, want);
        auto labels = read_labels(*txn, schema::namespace_bucket(ns));
        ASSERT_EQ(labels->size(), kObjectNames.size());
        for (const auto& [k, v] : *labels)
            EXPECT_EQ(v, tag(ns));
    }
    // The namespace list is exactly the ones written.
    auto listed = namespaces::list(*txn);
    auto want = kNamespaces;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(*listed, want);
}

TEST_F(Isolation, DeletingOneNamespaceLeavesItsNeighbours) {
    write([&](WriteTxn& txn) {
        for (const auto& ns : kNamespaces)
            ASSERT_OK(put_value(txn, schema::object_bucket(ns, schema::kLeases).child("l"),
                                schema::kCreatedAt, ns));
    });
    for (const auto& victim : kNamespaces) {
        SCOPED_TRACE(::testing::PrintToString(victim));
        write([&](WriteTxn& txn) {
            for (const auto& ns : kNamespaces)
                ASSERT_OK(put_value(txn, schema::object_bucket(ns, schema::kLeases).child("l"),
                                    schema::kCreatedAt, ns));
            ASSERT_OK(namespaces::remove(txn, victim));
        });
        auto txn = db().begin_read();
        for (const auto& ns : kNamespaces) {
            auto v = get_value(*txn, schema::object_bucket(ns, schema::kLeases).child("l"),
                               schema::kCreatedAt);
            EXPECT_EQ(v->has_value(), ns != victim) << ::testing::PrintToString(ns);
        }
    }
}

TEST_F(Isolation, BusyNeighbourDoesNotBlockRemove) {
    ASSERT_OK(db().update([](WriteTxn& txn) -> Status {
        GANTRY_TRY(namespaces::create(txn, "a", {}));
        GANTRY_TRY(namespaces::create(txn, "ab", {}));
        GANTRY_TRY(put_value(txn, schema::object_bucket("ab", schema::kImages).child("i"),
                             schema::kCreatedAt, "t"));
        return put_value(txn, schema::object_bucket("a\0"s, schema::kImages).child("i"),
                         schema::kCreatedAt, "t");
    }));
    ASSERT_OK(db().update([](WriteTxn& txn) { return namespaces::remove(txn, "a"); }));
    auto r = db().update([](WriteTxn& txn) { return namespaces::remove(txn, "ab"); });
    EXPECT_EQ(r.error().code(), Errc::FailedPrecondition);
}

// Names that spell encoding bytes or paths reach nothing but themselves.
TEST_F(Isolation, CraftedNamesDoNotReachOtherNamespaces) {
    ASSERT_OK(db().update([](WriteTxn& txn) -> Status {
        GANTRY_TRY(namespaces::create(txn, "a", {{"secret", "1"}}));
        return namespaces::create(txn, "b", {{"secret", "2"}});
    }));
    auto txn = db().begin_read();
    for (std::string crafted : {"a\0\x01"s, "a\0\x01labels"s, "a/labels"s, "a/../b"s,
                                "a\0\x01labels\0\x01"s, "\0\x01a"s, "v1\0\x01a"s}) {
        EXPECT_TRUE(namespaces::labels(*txn, crafted)->empty())
            << ::testing::PrintToString(crafted);
        EXPECT_FALSE(*namespaces::exists(*txn, crafted));
    }
    // Looking "up" out of a namespace is not possible either: names are never paths.
    EXPECT_FALSE(get_value(*txn, schema::namespace_bucket("a").child(".."), "b")->has_value());
    for (std::string crafted : {"a\0\x01"s, "a/.."s, ".."s, "a\0"s}) {
        auto r = db().update([&](WriteTxn& w) { return namespaces::remove(w, crafted); });
        EXPECT_EQ(r.error().code(), Errc::NotFound) << ::testing::PrintToString(crafted);
    }
    auto after = db().begin_read();
    EXPECT_EQ(namespaces::labels(*after, "a")->at("secret"), "1");
    EXPECT_EQ(namespaces::labels(*after, "b")->at("secret"), "2");
}

} // namespace
} // namespace gantry::metadata
