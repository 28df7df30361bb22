// The content store through a real daemon: the real ctr and gantry CLIs, raw gRPC for the error
// codes of bad input, and SIGKILL in the middle of a large write.
#include "services/content/v1/content.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"

#include <fstream>
#include <gtest/gtest.h>

namespace gantry::itest {
namespace {

namespace cv1 = containerd::services::content::v1;

std::string write_file(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
    return path;
}

std::string sha256_of_file(const std::string& path) {
    auto out = run({"sha256sum", path});
    return "sha256:" + out.out.substr(0, 64);
}

std::string pattern(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>((i * 131 + static_cast<std::size_t>(seed) * 7 + (i >> 12)) & 0xff);
    return s;
}

// Runs a CLI with stdin from a file.
Output with_stdin(const std::string& cmdline, const std::string& file) {
    return run({"sh", "-c", cmdline + " < '" + file + "'"});
}

struct Raw {
    explicit Raw(const Daemon& d) : stub(cv1::Content::NewStub(channel(d.socket()))) {}

    grpc::Status info(const std::string& digest, cv1::InfoResponse* resp = nullptr,
                      const std::string& ns = "default") {
        cv1::InfoRequest req;
        req.set_digest(digest);
        cv1::InfoResponse r;
        auto ctx = context(ns);
        return stub->Info(ctx.get(), req, resp ? resp : &r);
    }

    // Read of [offset, offset+size): the status and the bytes.
    std::pair<grpc::Status, std::string> read(const std::string& digest, std::int64_t offset = 0,
                                              std::int64_t size = 0) {
        cv1::ReadContentRequest req;
        req.set_digest(digest);
        req.set_offset(offset);
        req.set_size(size);
        auto ctx = context("default", 30);
        auto reader = stub->Read(ctx.get(), req);
        cv1::ReadContentResponse resp;
        std::string data;
        while (reader->Read(&resp)) {
            EXPECT_EQ(resp.offset(),
                      std::max<std::int64_t>(offset, 0) + static_cast<std::int64_t>(data.size()));
            EXPECT_LE(resp.data().size(), 1u << 20);
            data += resp.data();
        }
        return {reader->Finish(), data};
    }

    // One Write stream: messages as given; returns the final status and the replies.
    grpc::Status write(const std::vector<cv1::WriteContentRequest>& msgs,
                       std::vector<cv1::WriteContentResponse>* replies = nullptr,
                       const std::string& ns = "default") {
        auto ctx = context(ns, 60);
        auto stream = stub->Write(ctx.get());
        for (const auto& m : msgs) {
            if (!stream->Write(m)) break;
            cv1::WriteContentResponse resp;
            if (!stream->Read(&resp)) break;
            if (replies) replies->push_back(resp);
        }
        stream->WritesDone();
        return stream->Finish();
    }

    std::unique_ptr<cv1::Content::Stub> stub;
};

// Garbage collection would remove unreferenced blobs at its startup pass (100 ms after start, as
// containerd); the tests root their blobs with containerd.io/gc.root and keep that pass away.
Daemon::Options no_startup_gc() {
    return Daemon::Options{.config_text =
                               "version = 2\n[plugins.\"io.containerd.gc.v1.scheduler\"]\n"
                               "startup_delay = \"1h\"\n"};
}
constexpr const char* kGcRoot = "containerd.io/gc.root";

cv1::WriteContentRequest msg(cv1::WriteAction a, const std::string& ref = "",
                             std::int64_t offset = 0, std::string data = "", std::int64_t total = 0,
                             const std::string& expected = "") {
    cv1::WriteContentRequest m;
    m.set_action(a);
    m.set_ref(ref);
    m.set_offset(offset);
    m.set_data(std::move(data));
    m.set_total(total);
    m.set_expected(expected);
    return m;
}

// A COMMIT whose blob is a GC root.
cv1::WriteContentRequest rooted(cv1::WriteContentRequest m) {
    (*m.mutable_labels())[kGcRoot] = "test";
    return m;
}

TEST(Content, CtrAndGantryIngestListGetLabelRemove) {
    Daemon d(no_startup_gc());
    ASSERT_GT(d.pid(), 0) << d.log();
    const std::string data = pattern(300000, 1);
    const std::string file = write_file(d.dir() + "/blob1", data);
    const std::string dg = sha256_of_file(file);
    const std::string ctr = "ctr --address " + d.socket() + " -n default";
    const std::string gantry = bin("gantry") + " --address " + d.socket() + " -n default";

    auto in = with_stdin(
        ctr + " content ingest --expected-size 300000 --expected-digest " + dg + " ref-ctr", file);
    ASSERT_EQ(in.exit_code, 0) << in.err;
    // Again: the blob exists, and ctr treats AlreadyExists as success.
    EXPECT_EQ(
        with_stdin(ctr + " content ingest --expected-digest " + dg + " ref-again", file).exit_code,
        0);
    auto ls = d.ctr({"content", "ls"}, "default");
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(contains(ls.out, dg)) << ls.out;
    EXPECT_TRUE(contains(ls.out, "300kB")) << ls.out;
    auto get = d.ctr({"content", "get", dg}, "default");
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_TRUE(get.out == data);

    auto label =
        d.ctr({"content", "label", dg, "a=1", "b=2", std::string(kGcRoot) + "=x"}, "default");
    ASSERT_EQ(label.exit_code, 0) << label.err;
    EXPECT_TRUE(contains(label.out, "a=1")) << label.out;
    auto gls = d.gantry({"content", "ls"}, "default");
    ASSERT_EQ(gls.exit_code, 0) << gls.err;
    EXPECT_TRUE(contains(gls.out, "DIGEST")) << gls.out;
    EXPECT_TRUE(contains(gls.out, "a=1,b=2,containerd.io/gc.root=x")) << gls.out;
    auto filtered = d.gantry({"content", "ls", "-q", "labels.a==1"}, "default");
    EXPECT_EQ(filtered.out, dg + "\n");
    EXPECT_EQ(d.gantry({"content", "ls", "-q", "labels.a==2"}, "default").out, "");
    auto glabel = d.gantry({"content", "label", dg, "a="}, "default");
    ASSERT_EQ(glabel.exit_code, 0) << glabel.err;
    EXPECT_EQ(glabel.out, "b=2,containerd.io/gc.root=x\n");
    auto gget = d.gantry({"content", "get", dg}, "default");
    EXPECT_TRUE(gget.out == data);

    // gantry ingest, with a wrong expected digest first: refused, nothing stored.
    const std::string data2 = pattern(5000, 2);
    const std::string file2 = write_file(d.dir() + "/blob2", data2);
    const std::string dg2 = sha256_of_file(file2);
    const std::string other_digest = "sha256:" + std::string(64, 'c');
    auto bad =
        with_stdin(gantry + " content ingest --expected-digest " + other_digest + " ref-g", file2);
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_TRUE(contains(bad.err, "unexpected commit digest")) << bad.err;
    auto gin = with_stdin(gantry + " content ingest --expected-size 5000 ref-g", file2);
    ASSERT_EQ(gin.exit_code, 0) << gin.err;
    ASSERT_EQ(d.gantry({"content", "label", dg2, std::string(kGcRoot) + "=y"}, "default").exit_code,
              0);
    EXPECT_EQ(d.gantry({"content", "ls", "-q", "digest==" + dg2}, "default").out, dg2 + "\n");

    // Namespaces are separate.
    EXPECT_EQ(d.ctr({"content", "ls", "-q"}, "other").out, "");
    EXPECT_NE(d.gantry({"content", "get", dg}, "other").exit_code, 0);

    auto rm = d.ctr({"content", "rm", dg}, "default");
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(rm.out, dg + "\n");
    auto grm = d.gantry({"content", "rm", dg2}, "default");
    ASSERT_EQ(grm.exit_code, 0) << grm.err;
    EXPECT_EQ(d.ctr({"content", "ls", "-q"}, "default").out, "");
}

TEST(Content, ActiveIngestsAndAbort) {
    Daemon d(no_startup_gc());
    ASSERT_GT(d.pid(), 0) << d.log();
    Raw raw(d);
    // Closed without COMMIT: the ingest stays, resumable.
    ASSERT_TRUE(raw.write({msg(cv1::STAT, "layer-x", 0, "", 100),
                           msg(cv1::WRITE, "layer-x", 0, std::string(40, 'x'))})
                    .ok());
    auto active = d.ctr({"content", "active"}, "default");
    ASSERT_EQ(active.exit_code, 0) << active.err;
    EXPECT_TRUE(contains(active.out, "layer-x")) << active.out;
    EXPECT_TRUE(contains(active.out, "40B")) << active.out;
    auto gactive = d.gantry({"content", "active", "ref~=layer"}, "default");
    EXPECT_TRUE(contains(gactive.out, "layer-x")) << gactive.out;
    EXPECT_FALSE(contains(d.gantry({"content", "active", "ref==nope"}, "default").out, "layer-x"));

    cv1::StatusRequest sreq;
    sreq.set_ref("layer-x");
    cv1::StatusResponse sresp;
    auto ctx = context();
    ASSERT_TRUE(raw.stub->Status(ctx.get(), sreq, &sresp).ok());
    EXPECT_EQ(sresp.status().offset(), 40);
    EXPECT_EQ(sresp.status().total(), 100);

    cv1::AbortRequest areq;
    areq.set_ref("layer-x");
    google::protobuf::Empty e;
    auto c1 = context();
    ASSERT_TRUE(raw.stub->Abort(c1.get(), areq, &e).ok());
    auto c2 = context();
    EXPECT_EQ(raw.stub->Abort(c2.get(), areq, &e).error_code(), grpc::StatusCode::NOT_FOUND);
    auto c3 = context();
    EXPECT_EQ(raw.stub->Status(c3.get(), sreq, &sresp).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(Content, BadInputGetsClearCodesAndLosesNothing) {
    Daemon d(no_startup_gc());
    ASSERT_GT(d.pid(), 0) << d.log();
    Raw raw(d);
    const std::string data = "0123456789";
    std::vector<cv1::WriteContentResponse> replies;
    ASSERT_TRUE(raw.write({msg(cv1::STAT, "good", 0, "", 10), msg(cv1::WRITE, "", 0, data),
                           rooted(msg(cv1::COMMIT, "", 10, "", 10))},
                          &replies)
                    .ok());
    ASSERT_EQ(replies.size(), 3u);
    const std::string dg = replies.back().digest();
    ASSERT_EQ(dg.substr(0, 7), "sha256:");
    EXPECT_EQ(replies[1].offset(), 10);

    using C = grpc::StatusCode;
    // Wrong digest and wrong size at commit.
    auto wrong_digest =
        raw.write({msg(cv1::STAT, "r1"), msg(cv1::WRITE, "", 0, "abc"),
                   msg(cv1::COMMIT, "", 3, "", 3, "sha256:" + std::string(64, 'a'))});
    EXPECT_EQ(wrong_digest.error_code(), C::FAILED_PRECONDITION) << wrong_digest.error_message();
    auto wrong_size = raw.write(
        {msg(cv1::STAT, "r2"), msg(cv1::WRITE, "", 0, "abc"), msg(cv1::COMMIT, "", 3, "", 5)});
    EXPECT_EQ(wrong_size.error_code(), C::FAILED_PRECONDITION) << wrong_size.error_message();
    // Offsets: past the current offset, negative.
    auto past = raw.write(
        {msg(cv1::STAT, "r3"), msg(cv1::WRITE, "", 0, "abc"), msg(cv1::WRITE, "", 7, "def")});
    EXPECT_EQ(past.error_code(), C::OUT_OF_RANGE);
    EXPECT_EQ(past.error_message(), "write @7 must occur at current offset 3");
    auto negative = raw.write({msg(cv1::STAT, "r4"), msg(cv1::WRITE, "", -5, "abc")});
    EXPECT_EQ(negative.error_code(), C::OUT_OF_RANGE);
    // No ref; expected already there; malformed expected digest.
    auto noref = raw.write({msg(cv1::STAT)});
    EXPECT_EQ(noref.error_code(), C::INVALID_ARGUMENT);
    EXPECT_EQ(noref.error_message(), "first message must have a reference");
    EXPECT_EQ(raw.write({msg(cv1::STAT, "r5", 0, "", 0, dg)}).error_code(), C::ALREADY_EXISTS);
    EXPECT_EQ(raw.write({msg(cv1::STAT, "r6", 0, "", 0, "sha256:xyz")}).error_code(),
              C::INVALID_ARGUMENT);
    // Read past the end, with a negative offset (from 0), a short range.
    EXPECT_EQ(raw.read(dg, 11).first.error_code(), C::OUT_OF_RANGE);
    auto [neg_st, neg_data] = raw.read(dg, -3);
    EXPECT_TRUE(neg_st.ok());
    EXPECT_EQ(neg_data, data);
    auto [mid_st, mid_data] = raw.read(dg, 4, 3);
    EXPECT_TRUE(mid_st.ok());
    EXPECT_EQ(mid_data, "456");
    EXPECT_EQ(raw.read(dg, 8, 100).second, "89");
    // Malformed digests and unknown blobs.
    EXPECT_EQ(raw.info("sha256:1234").error_code(), C::INVALID_ARGUMENT);
    EXPECT_EQ(raw.info("nonsense").error_code(), C::INVALID_ARGUMENT);
    EXPECT_EQ(raw.read("sha256:UPPER").first.error_code(), C::INVALID_ARGUMENT);
    EXPECT_EQ(raw.info("sha256:" + std::string(64, 'b')).error_code(), C::NOT_FOUND);
    EXPECT_EQ(raw.info(dg, nullptr, "other").error_code(), C::NOT_FOUND);
    // A label over 4096 bytes; an unknown mask path.
    cv1::UpdateRequest up;
    up.mutable_info()->set_digest(dg);
    (*up.mutable_info()->mutable_labels())["big"] = std::string(4100, 'v');
    cv1::UpdateResponse upr;
    auto c1 = context();
    auto big = raw.stub->Update(c1.get(), up, &upr);
    EXPECT_EQ(big.error_code(), C::INVALID_ARGUMENT) << big.error_message();
    up.mutable_update_mask()->add_paths("digest");
    auto c2 = context();
    EXPECT_EQ(raw.stub->Update(c2.get(), up, &upr).error_code(), C::INVALID_ARGUMENT);
    // A lease that does not exist.
    auto lctx = context();
    lctx->AddMetadata("containerd-lease", "no-such-lease");
    auto lstream = raw.stub->Write(lctx.get());
    lstream->Write(msg(cv1::STAT, "leased"));
    cv1::WriteContentResponse lr;
    lstream->Read(&lr);
    lstream->WritesDone();
    EXPECT_EQ(lstream->Finish().error_code(), C::NOT_FOUND);
    // A second writer on an open ref is refused while the first holds it.
    auto hctx = context();
    auto holder = raw.stub->Write(hctx.get());
    ASSERT_TRUE(holder->Write(msg(cv1::STAT, "busy")));
    cv1::WriteContentResponse hr;
    ASSERT_TRUE(holder->Read(&hr));
    EXPECT_EQ(raw.write({msg(cv1::STAT, "busy")}).error_code(), C::UNAVAILABLE);
    holder->WritesDone();
    EXPECT_TRUE(holder->Finish().ok());

    // Nothing stored was lost or changed.
    cv1::InfoResponse ir;
    ASSERT_TRUE(raw.info(dg, &ir).ok());
    EXPECT_EQ(ir.info().size(), 10);
    EXPECT_EQ(ir.info().labels().size(), 1u);
    EXPECT_EQ(raw.read(dg).second, data);
    EXPECT_EQ(d.ctr({"content", "ls", "-q"}, "default").out, dg + "\n");
}

TEST(Content, SigkillMidWriteKeepsBlobsAndLeavesResumableIngest) {
    Daemon d(no_startup_gc());
    ASSERT_GT(d.pid(), 0) << d.log();
    // A committed blob before the crash.
    const std::string small = pattern(123456, 3);
    std::string small_digest;
    {
        Raw raw(d);
        std::vector<cv1::WriteContentResponse> replies;
        ASSERT_TRUE(
            raw.write({msg(cv1::STAT, "small"), msg(cv1::WRITE, "", 0, small),
                       rooted(msg(cv1::COMMIT, "", static_cast<std::int64_t>(small.size())))},
                      &replies)
                .ok());
        small_digest = replies.back().digest();
    }
    // A 24 MiB write, killed after 12 MiB were acknowledged.
    constexpr std::size_t kChunk = 1 << 20;
    const std::string big = pattern(24 * kChunk, 4);
    const std::string big_digest = sha256_of_file(write_file(d.dir() + "/big", big));
    {
        auto stub = cv1::Content::NewStub(channel(d.socket()));
        auto ctx = context("default", 60);
        auto stream = stub->Write(ctx.get());
        ASSERT_TRUE(stream->Write(
            msg(cv1::STAT, "big", 0, "", static_cast<std::int64_t>(big.size()), big_digest)));
        cv1::WriteContentResponse r;
        ASSERT_TRUE(stream->Read(&r));
        for (std::size_t off = 0; off < 12 * kChunk; off += kChunk) {
            ASSERT_TRUE(stream->Write(
                msg(cv1::WRITE, "", static_cast<std::int64_t>(off), big.substr(off, kChunk))));
            ASSERT_TRUE(stream->Read(&r));
        }
        // One more chunk in flight, then the kill.
        stream->Write(msg(cv1::WRITE, "", static_cast<std::int64_t>(12 * kChunk),
                          big.substr(12 * kChunk, kChunk)));
        d.kill9();
        ctx->TryCancel();
    }
    ASSERT_TRUE(d.start()) << d.log();
    Raw raw(d);
    // The committed blob is intact and still verifies.
    auto [st, got] = raw.read(small_digest);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(got == small);
    EXPECT_EQ(sha256_of_file(write_file(d.dir() + "/small.out", got)), small_digest);
    // No blob for the interrupted write.
    EXPECT_EQ(raw.info(big_digest).error_code(), grpc::StatusCode::NOT_FOUND);
    // The ingest is there with its offset: continue at that offset and commit.
    cv1::StatusRequest sreq;
    sreq.set_ref("big");
    cv1::StatusResponse sresp;
    auto sctx = context();
    ASSERT_TRUE(raw.stub->Status(sctx.get(), sreq, &sresp).ok());
    const std::int64_t offset = sresp.status().offset();
    EXPECT_GE(offset, static_cast<std::int64_t>(12 * kChunk));
    EXPECT_LE(offset, static_cast<std::int64_t>(13 * kChunk));
    EXPECT_EQ(sresp.status().total(), static_cast<std::int64_t>(big.size()));
    std::vector<cv1::WriteContentRequest> rest{
        msg(cv1::STAT, "big", 0, "", static_cast<std::int64_t>(big.size()), big_digest)};
    for (std::int64_t off = offset; off < static_cast<std::int64_t>(big.size());
         off += static_cast<std::int64_t>(kChunk))
        rest.push_back(msg(cv1::WRITE, "", off, big.substr(static_cast<std::size_t>(off), kChunk)));
    rest.push_back(rooted(msg(cv1::COMMIT, "", static_cast<std::int64_t>(big.size()), "",
                              static_cast<std::int64_t>(big.size()), big_digest)));
    std::vector<cv1::WriteContentResponse> replies;
    auto resumed = raw.write(rest, &replies);
    ASSERT_TRUE(resumed.ok()) << resumed.error_message();
    EXPECT_EQ(replies.front().offset(), offset);
    EXPECT_EQ(replies.back().digest(), big_digest);
    auto [bst, bgot] = raw.read(big_digest);
    ASSERT_TRUE(bst.ok());
    EXPECT_TRUE(bgot == big);
    EXPECT_EQ(d.ctr({"content", "active"}, "default").out.find("big"), std::string::npos);
}

} // namespace
} // namespace gantry::itest
