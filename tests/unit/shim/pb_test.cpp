#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/sha256.hpp"
#include "shims/gantry-shim/util.hpp"

#include <gtest/gtest.h>

using namespace gantry::shim;

TEST(ShimPb, VarintBoundaries) {
    for (uint64_t v : {uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300}, uint64_t{1} << 35,
                       ~uint64_t{0}}) {
        pb::Writer w;
        w.u64(7, v);
        pb::Message m;
        ASSERT_TRUE(m.parse(w.data()));
        EXPECT_EQ(m.u64(7), v);
    }
    pb::Writer w;
    w.u64(1, 300);
    EXPECT_EQ(w.data(), std::string("\x08\xac\x02", 3));
}

TEST(ShimPb, Proto3OmitsDefaultsButKeepsPresentMessages) {
    pb::Writer w;
    w.u64(1, 0);
    w.str(2, "");
    w.boolean(3, false);
    EXPECT_TRUE(w.data().empty());
    pb::Writer empty;
    w.msg(4, empty); // a set Timestamp of zero is still present
    EXPECT_EQ(w.data(), std::string("\x22\x00", 2));
}

TEST(ShimPb, RepeatedAndLastWins) {
    pb::Writer w;
    w.str(4, "ro");
    w.str(4, "nosuid");
    w.str(1, "first");
    w.str(1, "second");
    pb::Message m;
    ASSERT_TRUE(m.parse(w.data()));
    auto opts = m.repeated(4);
    ASSERT_EQ(opts.size(), 2u);
    EXPECT_EQ(opts[0], "ro");
    EXPECT_EQ(opts[1], "nosuid");
    EXPECT_EQ(m.str(1), "second");
}

TEST(ShimPb, SkipsUnknownWireTypesItUnderstands) {
    // field 9 fixed64, field 10 fixed32, then field 1 varint
    std::string buf("\x49\x01\x02\x03\x04\x05\x06\x07\x08\x55\x01\x02\x03\x04\x08\x2a", 16);
    pb::Message m;
    ASSERT_TRUE(m.parse(buf));
    EXPECT_EQ(m.u64(1), 42u);
    EXPECT_EQ(m.u64(10), 0x04030201u);
}

TEST(ShimPb, RejectsMalformedInput) {
    pb::Message m;
    EXPECT_FALSE(m.parse(std::string("\x0a\x05"
                                     "abc",
                                     5)));                 // length past the end
    EXPECT_FALSE(m.parse(std::string("\x08\xff\xff", 3))); // truncated varint
    EXPECT_FALSE(m.parse(std::string("\x0b\x00", 2)));     // group wire type
    EXPECT_FALSE(m.parse(std::string("\x00\x01", 2)));     // field number 0
}

TEST(ShimPb, AnyAndTimestamp) {
    timespec ts{1700000000, 123456789};
    pb::Writer w = any("containerd.events.TaskExit", timestamp(ts).data());
    pb::Message a;
    ASSERT_TRUE(a.parse(w.data()));
    EXPECT_EQ(a.str(1), "containerd.events.TaskExit");
    pb::Message t;
    ASSERT_TRUE(t.parse(a.str(2)));
    EXPECT_EQ(t.u64(1), 1700000000u);
    EXPECT_EQ(t.u64(2), 123456789u);
}

TEST(ShimSha256, KnownVectors) {
    EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256Hex(std::string(1000, 'a')),
              "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(ShimUtil, JsonStringAndLogErrors) {
    EXPECT_EQ(jsonString(R"({"a": "x\"y\n", "b":"z"})", "a").value(), "x\"y\n");
    EXPECT_EQ(jsonString(R"({"a":"x","b" : "z"})", "b").value(), "z");
    EXPECT_FALSE(jsonString(R"({"a":1})", "a").has_value());
    EXPECT_EQ(jsonQuote("a\"b\\\x01"), "\"a\\\"b\\\\\\u0001\"");

    char tmpl[] = "/tmp/gantry-shim-log-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    // runc writes one object per line; runsc writes them back to back.
    std::string text =
        R"({"level":"error","msg":"old failure","time":"t"})"
        "\n"
        R"({"msg":"first {brace}","level":"error"}{"msg":"not an error","level":"info"})"
        R"({"msg":"runsc said \"no\"","level":"error"})";
    ASSERT_TRUE(writeFile(tmpl, text));
    EXPECT_EQ(lastRuntimeError(tmpl, 0), "runsc said \"no\"");
    size_t firstLine = text.find('\n') + 1;
    EXPECT_EQ(lastRuntimeError(tmpl, text.size()), "");
    EXPECT_EQ(lastRuntimeError(tmpl, firstLine), "runsc said \"no\"");
    unlink(tmpl);
}
