#include "shims/gantry-shim/loop.hpp"
#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/ttrpc.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

using namespace gantry::shim;

namespace {
std::string hex(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}
} // namespace

// protocol-facts §9.5: a shim Connect in namespace "default" on stream 1.
TEST(ShimTtrpc, ConnectRequestBytesMatchTheReference) {
    pb::Writer connect;
    connect.str(1, "c1");
    std::string body = ttrpc::encodeRequest("containerd.task.v2.Task", "Connect", connect.data(), 0,
                                            {{"containerd-namespace-ttrpc", "default"}});
    EXPECT_EQ(hex(ttrpc::encodeHeader(static_cast<uint32_t>(body.size()), 1, ttrpc::kTypeRequest)),
              "0000004f000000010100");
    std::string expected = std::string("\x0a\x17") + "containerd.task.v2.Task" + "\x12\x07" +
                           "Connect" + "\x1a\x04\x0a\x02" + "c1" + "\x2a\x25\x0a\x1a" +
                           "containerd-namespace-ttrpc" + "\x12\x07" + "default";
    EXPECT_EQ(hex(body), hex(expected));

    ttrpc::Request req;
    ASSERT_TRUE(req.parse(body));
    EXPECT_EQ(req.service, "containerd.task.v2.Task");
    EXPECT_EQ(req.method, "Connect");
    ASSERT_EQ(req.metadata.size(), 1u);
    EXPECT_EQ(req.metadata[0].second, "default");
}

TEST(ShimTtrpc, ResponsesSuccessIsPayloadOnlyErrorIsStatusOnly) {
    EXPECT_EQ(ttrpc::encodeResponse({}, {}), ""); // Empty: a header-only frame
    EXPECT_EQ(hex(ttrpc::encodeHeader(0, 3, ttrpc::kTypeResponse)), "00000000000000030200");
    std::string err = ttrpc::encodeResponse({ttrpc::NotFound, "thing x: not found"}, "ignored");
    EXPECT_EQ(hex(err), hex(std::string("\x0a\x16\x08\x05\x12\x12") + "thing x: not found"));
    ttrpc::Status st;
    std::string_view payload;
    ASSERT_TRUE(ttrpc::parseResponse(err, st, payload));
    EXPECT_EQ(st.code, ttrpc::NotFound);
    EXPECT_EQ(st.message, "thing x: not found");
}

TEST(ShimTtrpc, FrameReaderReassemblesAndSkipsOversizedBodies) {
    ttrpc::FrameReader r;
    std::string a = ttrpc::encodeHeader(3, 1, 1) + "abc";
    std::string big = ttrpc::encodeHeader(ttrpc::kMaxMessage + 1, 3, 1);
    std::string b = ttrpc::encodeHeader(2, 5, 1) + "de";
    ttrpc::FrameReader::Frame f;
    r.feed(a.substr(0, 4));
    EXPECT_FALSE(r.next(f));
    r.feed(a.substr(4));
    ASSERT_TRUE(r.next(f));
    EXPECT_EQ(f.stream, 1u);
    EXPECT_EQ(f.body, "abc");
    r.feed(big);
    ASSERT_TRUE(r.next(f));
    EXPECT_TRUE(f.oversized);
    EXPECT_EQ(f.stream, 3u);
    // The oversized body arrives in pieces and is dropped; the next frame is intact.
    r.feed(std::string(ttrpc::kMaxMessage / 2, 'x'));
    EXPECT_FALSE(r.next(f));
    r.feed(std::string(ttrpc::kMaxMessage / 2 + 1, 'x') + b);
    ASSERT_TRUE(r.next(f));
    EXPECT_FALSE(f.oversized);
    EXPECT_EQ(f.stream, 5u);
    EXPECT_EQ(f.body, "de");
}

// A server and a client on one loop over a socketpair-like unix socket.
TEST(ShimTtrpc, ServerAndClientRoundTripOnTheLoop) {
    char dir[] = "/tmp/gantry-ttrpc-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string path = std::string(dir) + "/s";
    Fd l(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, path.size());
    ASSERT_EQ(::bind(l.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(l.get(), 4), 0);

    Loop loop;
    std::vector<ttrpc::Call> parked;
    ttrpc::Server server(loop, [&](ttrpc::Call call, const ttrpc::Request& req) {
        if (req.method == "Echo") return server.reply(call, req.payload);
        if (req.method == "Park") return parked.push_back(call);
        server.fail(call, {ttrpc::Unimplemented, "method " + std::string(req.method)});
    });
    ASSERT_TRUE(server.listen(std::move(l)));
    ttrpc::Client client(loop, path);

    std::vector<std::string> results;
    client.call("s", "Park", "", 0, {}, [&](const ttrpc::Status& st, std::string_view p) {
        results.push_back("park:" + std::to_string(st.code) + ":" + std::string(p));
        loop.stop();
    });
    client.call("s", "Echo", "hello", 0, {}, [&](const ttrpc::Status& st, std::string_view p) {
        results.push_back("echo:" + std::to_string(st.code) + ":" + std::string(p));
        ASSERT_EQ(parked.size(), 1u); // answered later, out of order
        server.reply(parked[0], "late");
    });
    client.call("s", "Nope", "", 0, {}, [&](const ttrpc::Status& st, std::string_view) {
        results.push_back("nope:" + std::to_string(st.code) + ":" + st.message);
    });
    loop.run();
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0], "echo:0:hello");
    EXPECT_EQ(results[1], "nope:12:method Nope");
    EXPECT_EQ(results[2], "park:0:late");
    ::unlink(path.c_str());
    ::rmdir(dir);
}
