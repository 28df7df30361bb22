#include "core/metadata/keys.hpp"
#include "core/metadata/schema.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace gantry::metadata {
namespace {

using namespace std::string_literals;

std::string encode(std::string_view name, ComponentKind kind) {
    std::string out;
    append_component(out, name, kind);
    return out;
}

// Names that try to look like the encoding itself, or like paths.
std::vector<std::string> hostile_names() {
    return {""s,
            "a"s,
            "ab"s,
            "a\0"s,
            "a\0b"s,
            "\0"s,
            "\0\0"s,
            "\0\xff"s,
            "\0\x01"s,
            "\0\x02"s,
            "\0\x03"s,
            "a\0\x01"
            "b"s,
            "\xff"s,
            "\xff\xff"s,
            "/"s,
            "a/b"s,
            ".."s,
            "../b"s,
            "\x01"s,
            "\x02"s,
            "version"s,
            "labels"s,
            "v1"s,
            std::string(128, 'x'),
            std::string(129, 'x'),
            std::string(64, '\0'),
            std::string(65, '\0'),
            std::string(4000, 'k'),
            std::string(96, 'p') + "a" + std::string(40, 'z'),
            std::string(96, 'p') + "b" + std::string(40, 'z')};
}

std::vector<std::string> random_names(std::size_t count, std::uint32_t seed) {
    std::mt19937 rng(seed);
    // Bytes near the escape values are the interesting ones.
    const std::string alphabet = "\x00\x01\x02\x03\xfe\xff"
                                 "ab/."s;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < count; ++i) {
        std::string s(rng() % 6, ' ');
        for (char& c : s)
            c = alphabet[rng() % alphabet.size()];
        names.push_back(s);
    }
    return names;
}

TEST(Keys, ComponentRoundTrips) {
    for (const auto& name : hostile_names()) {
        for (auto kind : {ComponentKind::Bucket, ComponentKind::Value}) {
            std::string enc = encode(name, kind);
            auto decoded = decode_component(enc + "trailing");
            ASSERT_TRUE(decoded) << name.size();
            EXPECT_EQ(decoded->kind, kind);
            EXPECT_EQ(decoded->size, enc.size());
            EXPECT_EQ(decoded->hashed, is_hashed_name(name));
            if (!decoded->hashed) {
                EXPECT_EQ(decoded->name, name);
            }
        }
    }
}

TEST(Keys, EscapedZeroAndTerminators) {
    EXPECT_EQ(encode("a\0b"s, ComponentKind::Bucket), "a\0\xff"
                                                      "b\0\x01"s);
    EXPECT_EQ(encode("", ComponentKind::Value), "\0\x02"s);
    EXPECT_EQ(schema::v1().child("default").prefix(), "v1\0\x01"
                                                      "default\0\x01"s);
}

TEST(Keys, EncodingsAreDistinctAndPrefixFree) {
    auto names = hostile_names();
    auto more = random_names(2000, 7);
    names.insert(names.end(), more.begin(), more.end());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());

    std::vector<std::string> encodings;
    for (const auto& n : names) {
        encodings.push_back(encode(n, ComponentKind::Bucket));
        encodings.push_back(encode(n, ComponentKind::Value));
    }
    std::sort(encodings.begin(), encodings.end());
    for (std::size_t i = 1; i < encodings.size(); ++i) {
        ASSERT_NE(encodings[i - 1], encodings[i]);
        // Sorted, so a prefix would sit right before its extension.
        ASSERT_NE(encodings[i].compare(0, encodings[i - 1].size(), encodings[i - 1]), 0)
            << "an encoding is a prefix of another";
    }
}

TEST(Keys, PlainNamesSortLikeTheirBytes) {
    auto names = random_names(3000, 11);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (std::size_t i = 1; i < names.size(); ++i) {
        ASSERT_LT(encode(names[i - 1], ComponentKind::Bucket),
                  encode(names[i], ComponentKind::Bucket));
        ASSERT_LT(encode(names[i - 1], ComponentKind::Value),
                  encode(names[i], ComponentKind::Value));
    }
}

TEST(Keys, BucketSubtreeSortsBeforeValueOfSameName) {
    BucketPath parent = schema::v1();
    std::string deep = parent.child("x").child("zzz").value_key("\xff\xff");
    EXPECT_LT(parent.child("x").prefix(), deep);
    EXPECT_LT(deep, parent.value_key("x"));
    EXPECT_LT(parent.value_key("x"), parent.child("x\0"s).prefix());
}

TEST(Keys, SubtreeKeysShareTheBucketPrefixAndNoOthersDo) {
    BucketPath a = schema::namespace_bucket("a");
    for (const auto& other : hostile_names()) {
        if (other == "a") continue;
        BucketPath b = schema::namespace_bucket(other);
        EXPECT_NE(b.child("images").value_key("x").rfind(a.prefix(), 0), 0u) << other;
        EXPECT_NE(b.prefix().rfind(a.prefix(), 0), 0u) << other;
    }
    EXPECT_EQ(a.child("images").child("n").value_key("createdat").rfind(a.prefix(), 0), 0u);
}

TEST(Keys, LongNamesAreHashedButStayDistinct) {
    std::string p = std::string(96, 'p');
    std::string x = p + std::string(100, 'x');
    std::string y = p + std::string(100, 'y');
    ASSERT_TRUE(is_hashed_name(x));
    EXPECT_NE(encode(x, ComponentKind::Bucket), encode(y, ComponentKind::Bucket));
    EXPECT_LE(encode(x, ComponentKind::Bucket).size(), 132u);
    EXPECT_LE(encode(std::string(5000, '\0'), ComponentKind::Value).size(), 132u);
    EXPECT_EQ(encode(x, ComponentKind::Value).rfind(p, 0), 0u);
    // 128 escaped bytes is still verbatim; 129 is not.
    EXPECT_FALSE(is_hashed_name(std::string(128, 'a')));
    EXPECT_TRUE(is_hashed_name(std::string(127, 'a') + "\0"s));
}

TEST(Keys, DeepestSchemaPathFitsLmdbKeyLimit) {
    const std::string ns(76, 'n');
    const std::string huge(4096, '\0');
    std::string snapshot_label =
        schema::snapshotter_bucket(ns, huge).child(huge).child(schema::kLabels).value_key(huge);
    std::string lease_snapshot = schema::object_bucket(ns, schema::kLeases)
                                     .child(huge)
                                     .child(schema::kSnapshots)
                                     .child(huge)
                                     .value_key(huge);
    EXPECT_LE(snapshot_label.size(), 511u);
    EXPECT_LE(lease_snapshot.size(), 511u);
}

TEST(Keys, MalformedComponentsAreRejected) {
    EXPECT_FALSE(decode_component("abc"));
    EXPECT_FALSE(decode_component("a\0"s));
    EXPECT_FALSE(decode_component("a\0\x05"s));
    EXPECT_FALSE(decode_component("a\0\x03"
                                  "0123"s));
    EXPECT_FALSE(decode_component("a\0\x03"s + std::string(32, 'g') + "\0\x01"s));
    EXPECT_FALSE(decode_component(""));
}

} // namespace
} // namespace gantry::metadata
