#include "core/metadata/identifiers.hpp"

#include <gtest/gtest.h>
#include <string>

namespace gantry::metadata {
namespace {

using namespace std::string_literals;

TEST(Identifiers, ValidNames) {
    for (std::string s : {"a", "A", "0", "default", "k8s.io", "moby", "a.b-c_d", "a1.2", "1.2.3",
                          "Mixed-Case_09"}) {
        EXPECT_TRUE(validate_identifier(s).ok()) << s;
    }
    EXPECT_TRUE(validate_identifier(std::string(76, 'x')).ok());
}

TEST(Identifiers, InvalidNamesWithContainerdMessages) {
    struct Case {
        std::string input;
        std::string message;
    };
    const std::string must_match = " must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$";
    const Case cases[] = {
        {"", "identifier must not be empty"},
        {std::string(77, 'x'),
         "identifier \"" + std::string(77, 'x') + "\" greater than maximum length (76 characters)"},
        {"-a", "identifier \"-a\"" + must_match},
        {"a-", "identifier \"a-\"" + must_match},
        {"a..b", "identifier \"a..b\"" + must_match},
        {"a.-b", "identifier \"a.-b\"" + must_match},
        {".", "identifier \".\"" + must_match},
        {"a b", "identifier \"a b\"" + must_match},
        {"a/b", "identifier \"a/b\"" + must_match},
        {"..", "identifier \"..\"" + must_match},
        {"a\0b"s, "identifier \"a\\x00b\"" + must_match},
        {"caf\xc3\xa9", "identifier \"caf\xc3\xa9\"" + must_match},
        {"a\"b", "identifier \"a\\\"b\"" + must_match},
    };
    for (const auto& c : cases) {
        auto s = validate_identifier(c.input);
        ASSERT_FALSE(s.ok()) << c.input;
        EXPECT_EQ(s.error().code(), Errc::InvalidArgument);
        EXPECT_EQ(s.error().message(), c.message);
    }
    // The length check comes first, even for a name that would not match.
    auto long_bad = validate_identifier(std::string(80, '-'));
    EXPECT_NE(long_bad.error().message().find("greater than maximum length"), std::string::npos);
    EXPECT_EQ(validate_identifier("").error().wire_message(),
              "identifier must not be empty: invalid argument");
}

TEST(Labels, SizeLimitIsKeyPlusValue) {
    EXPECT_TRUE(validate_label("k", std::string(4095, 'v')).ok());
    EXPECT_TRUE(validate_label(std::string(4096, 'k'), "").ok());
    auto too_big = validate_label("key", std::string(4094, 'v'));
    ASSERT_FALSE(too_big.ok());
    EXPECT_EQ(too_big.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(too_big.error().message(),
              "label key and value greater than maximum size (4096 bytes), key: key");
    auto long_key = validate_label("0123456789abcdef", std::string(4096, 'v'));
    EXPECT_EQ(long_key.error().message(),
              "label key and value greater than maximum size (4096 bytes), key: 0123456789");
}

TEST(Labels, MapReportsTheFirstOffenderInKeyOrder) {
    EXPECT_TRUE(validate_labels({}).ok());
    EXPECT_TRUE(validate_labels({{"a", "b"}, {"", ""}}).ok()); // characters are not restricted
    auto s = validate_labels({{"b", std::string(5000, 'x')}, {"a", std::string(5000, 'x')}});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find("key: a"), std::string::npos);
}

TEST(Digests, ValidAndInvalid) {
    const std::string hex64(64, 'a');
    EXPECT_TRUE(validate_digest("sha256:" + hex64).ok());
    EXPECT_TRUE(validate_digest("sha384:" + std::string(96, '0')).ok());
    EXPECT_TRUE(validate_digest("sha512:" + std::string(128, 'f')).ok());

    struct Case {
        std::string input;
        std::string message;
    };
    const Case cases[] = {
        {"", "invalid checksum digest format"},
        {"sha256", "invalid checksum digest format"},
        {":" + hex64, "invalid checksum digest format"},
        {"sha256:", "invalid checksum digest format"},
        {"sha256:" + std::string(63, 'a'), "invalid checksum digest length"},
        {"sha256:" + std::string(65, 'a'), "invalid checksum digest length"},
        {"sha256:" + std::string(64, 'A'), "invalid checksum digest format"},
        {"sha256:" + std::string(63, 'a') + "g", "invalid checksum digest format"},
        {"sha512:" + hex64, "invalid checksum digest length"},
        {"md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm"},
        {"sha3+x.y:abc=_-", "unsupported digest algorithm"},
        {"SHA256:" + hex64, "invalid checksum digest format"},
        {"sha256+:" + hex64, "invalid checksum digest format"},
        {"foo:a:b", "invalid checksum digest format"},
        {"foo:a b", "invalid checksum digest format"},
    };
    for (const auto& c : cases) {
        auto s = validate_digest(c.input);
        ASSERT_FALSE(s.ok()) << c.input;
        EXPECT_EQ(s.error().code(), Errc::InvalidArgument);
        EXPECT_EQ(s.error().message(), c.message) << c.input;
    }
}

} // namespace
} // namespace gantry::metadata
