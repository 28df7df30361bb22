#include "cmd/gantry/go_json.hpp"

#include <gtest/gtest.h>

namespace gantry::cli {
namespace {

using Json = nlohmann::ordered_json;

TEST(GoJson, IndentsAsMarshalIndentWithFourSpaces) {
    Json j = Json::object();
    j["ID"] = "c1";
    j["Labels"] = nullptr;
    j["Empty"] = Json::object();
    j["List"] = Json::array({1, "two", true});
    j["None"] = Json::array();
    j["Nested"] = {{"b", 2}, {"a", Json::object({{"x", false}})}};
    EXPECT_EQ(go_json_indent(j), "{\n"
                                 "    \"ID\": \"c1\",\n"
                                 "    \"Labels\": null,\n"
                                 "    \"Empty\": {},\n"
                                 "    \"List\": [\n"
                                 "        1,\n"
                                 "        \"two\",\n"
                                 "        true\n"
                                 "    ],\n"
                                 "    \"None\": [],\n"
                                 "    \"Nested\": {\n"
                                 "        \"b\": 2,\n"
                                 "        \"a\": {\n"
                                 "            \"x\": false\n"
                                 "        }\n"
                                 "    }\n"
                                 "}");
    EXPECT_EQ(go_json_indent(Json::object()), "{}");
    EXPECT_EQ(go_json_indent(Json(-5)), "-5");
}

TEST(GoJson, EscapesStringsAsGo119) {
    EXPECT_EQ(go_json_quote("plain ~ text"), "\"plain ~ text\"");
    EXPECT_EQ(go_json_quote("q\" b\\ n\n r\r t\t"), R"("q\" b\\ n\n r\r t\t")");
    // Other control bytes, \b and \f included, and HTML's < > & as \u00xx with lowercase hex.
    EXPECT_EQ(go_json_quote(std::string("\x00\x01\b\f\x1f", 5)),
              R"("\u0000\u0001\u0008\u000c\u001f")");
    EXPECT_EQ(go_json_quote("<a href='x'>&</a>"),
              R"("\u003ca href='x'\u003e\u0026\u003c/a\u003e")");
    EXPECT_EQ(go_json_quote("\x7f"), "\"\x7f\""); // DEL is left alone
    // UTF-8 passes through; U+2028/U+2029 are escaped; each invalid byte becomes \ufffd.
    EXPECT_EQ(go_json_quote("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\xb3"),
              "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\xb3\"");
    EXPECT_EQ(go_json_quote("a\xe2\x80\xa8"
                            "b\xe2\x80\xa9"),
              R"("a\u2028b\u2029")");
    EXPECT_EQ(go_json_quote("\xff\xc3"), R"("\ufffd\ufffd")");
    EXPECT_EQ(go_json_quote("\xc0\x80"), R"("\ufffd\ufffd")");           // overlong NUL
    EXPECT_EQ(go_json_quote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")"); // a surrogate
    EXPECT_EQ(go_json_quote("\xe2\x82"), R"("\ufffd\ufffd")");           // cut short
}

TEST(GoJson, TimesAreRfc3339NanoInUtc) {
    EXPECT_EQ(go_rfc3339_nano(1700000000, 0), "2023-11-14T22:13:20Z");
    EXPECT_EQ(go_rfc3339_nano(1700000000, 560123948), "2023-11-14T22:13:20.560123948Z");
    EXPECT_EQ(go_rfc3339_nano(1700000000, 500000000), "2023-11-14T22:13:20.5Z");
    EXPECT_EQ(go_rfc3339_nano(1700000000, 1000), "2023-11-14T22:13:20.000001Z");
    EXPECT_EQ(go_rfc3339_nano(0, 0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(go_rfc3339_nano(-62135596800, 0), "0001-01-01T00:00:00Z"); // Go's zero time
    EXPECT_EQ(go_rfc3339_nano(-1, 0), "1969-12-31T23:59:59Z");
}

TEST(GoJson, BytesAreStandardBase64) {
    EXPECT_EQ(base64_std(""), "");
    EXPECT_EQ(base64_std("f"), "Zg==");
    EXPECT_EQ(base64_std("fo"), "Zm8=");
    EXPECT_EQ(base64_std("foo"), "Zm9v");
    EXPECT_EQ(base64_std("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_std(std::string("\x01\x02\xff", 3)), "AQL/");
    EXPECT_EQ(base64_std(std::string("\xfb\xff", 2)), "+/8=");
}

} // namespace
} // namespace gantry::cli
