// Framing and message bytes against the ones verified on the wire (protocol-facts §9.5).
#include "core/ttrpc/frame.hpp"
#include "core/ttrpc/status.hpp"
#include "runtime/task/v2/shim.pb.h"
#include "ttrpc/ttrpc.pb.h"

#include <gtest/gtest.h>

namespace gantry::ttrpc {
namespace {

std::string hex(std::string_view s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}

std::string str_hex(std::string_view s) {
    return hex(s);
}

TEST(TtrpcFrame, ShimConnectRequestMatchesVerifiedBytes) {
    containerd::task::v2::ConnectRequest connect;
    connect.set_id("c1");
    ::ttrpc::Request req;
    req.set_service("containerd.task.v2.Task");
    req.set_method("Connect");
    req.set_payload(connect.SerializeAsString());
    auto* kv = req.add_metadata();
    kv->set_key(std::string(kNamespaceKey));
    kv->set_value("default");
    std::string frame = encode_frame(1, MessageType::Request, req.SerializeAsString());

    std::string want = "0000004f"
                       "00000001"
                       "01"
                       "00"
                       "0a17" +
                       str_hex("containerd.task.v2.Task") + "1207" + str_hex("Connect") +
                       "1a04"
                       "0a02" +
                       str_hex("c1") +
                       "2a25"
                       "0a1a" +
                       str_hex("containerd-namespace-ttrpc") + "1207" + str_hex("default");
    EXPECT_EQ(hex(frame), want);
}

TEST(TtrpcFrame, EmptySuccessIsHeaderOnly) {
    ::ttrpc::Response resp;
    EXPECT_EQ(hex(encode_frame(3, MessageType::Response, resp.SerializeAsString())),
              "00000000000000030200");
}

TEST(TtrpcFrame, NotFoundStatusBody) {
    ::ttrpc::Response resp;
    *resp.mutable_status() = to_status(not_found("thing x"));
    EXPECT_EQ(hex(resp.SerializeAsString()), "0a16"
                                             "0805"
                                             "1212" +
                                                 str_hex("thing x: not found"));
    Error back = from_status(resp.status());
    EXPECT_EQ(back.code(), Errc::NotFound);
    EXPECT_EQ(back.message(), "thing x: not found");
}

TEST(TtrpcFrame, UnknownCodesBecomeUnknown) {
    google::rpc::Status s;
    s.set_code(16); // Unauthenticated: no containerd class
    s.set_message("who");
    EXPECT_EQ(from_status(s).code(), Errc::Unknown);
}

TEST(TtrpcFrame, HeaderRoundTrip) {
    FrameHeader h{0x01020304, 0xfffffffd, 2, 0};
    auto b = encode_header(h);
    FrameHeader back = decode_header(b.data());
    EXPECT_EQ(back.length, h.length);
    EXPECT_EQ(back.stream_id, h.stream_id);
    EXPECT_EQ(back.type, 2);
    EXPECT_EQ(back.flags, 0);
}

TEST(TtrpcFrame, DecoderReassemblesByteByByte) {
    std::string bytes = encode_frame(1, MessageType::Request, "hello") +
                        encode_frame(3, MessageType::Request, "") +
                        encode_frame(5, MessageType::Response, std::string(70000, 'x'));
    FrameDecoder dec;
    std::vector<Frame> got;
    for (char c : bytes) {
        dec.feed(&c, 1);
        while (auto f = dec.next())
            got.push_back(std::move(*f));
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].body, "hello");
    EXPECT_EQ(got[0].header.stream_id, 1u);
    EXPECT_EQ(got[1].body, "");
    EXPECT_EQ(got[2].header.type, 2);
    EXPECT_EQ(got[2].body.size(), 70000u);
    EXPECT_EQ(dec.buffered(), 0u);
}

TEST(TtrpcFrame, DecoderSkipsOversizedBodyWithoutBufferingIt) {
    const std::uint32_t big = kMaxMessageSize + 1;
    auto hdr = encode_header({big, 7, 1, 0});
    FrameDecoder dec;
    dec.feed(hdr.data(), hdr.size());
    auto f = dec.next();
    // The frame is reported once its body has been skipped, not before.
    EXPECT_FALSE(f.has_value());
    std::string chunk(1u << 20, 'z');
    std::uint32_t left = big;
    while (left > 0) {
        std::size_t n = std::min<std::size_t>(left, chunk.size());
        dec.feed(chunk.data(), n);
        left -= static_cast<std::uint32_t>(n);
        EXPECT_LE(dec.buffered(), chunk.size());
        if (left > 0) {
            EXPECT_FALSE(dec.next().has_value());
        }
    }
    std::string after = encode_frame(9, MessageType::Request, "next");
    dec.feed(after.data(), after.size());
    f = dec.next();
    ASSERT_TRUE(f.has_value());
    EXPECT_TRUE(f->oversized);
    EXPECT_EQ(f->header.stream_id, 7u);
    EXPECT_EQ(f->header.length, big);
    f = dec.next();
    ASSERT_TRUE(f.has_value());
    EXPECT_FALSE(f->oversized);
    EXPECT_EQ(f->body, "next");
    EXPECT_EQ(oversized_message(big),
              "message length 4194305 exceed maximum message size of 4194304");
}

} // namespace
} // namespace gantry::ttrpc
