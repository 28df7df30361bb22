// A daemon SIGKILLed while garbage collection runs restarts clean: blobs that are still
// referenced are intact, and after the next collection no file is left on disk that no
// record refers to (issue 4, recovery).
#include "services/content/v1/content.grpc.pb.h"
#include "services/leases/v1/leases.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace gantry::itest {
namespace {

namespace cv1 = containerd::services::content::v1;
namespace lv1 = containerd::services::leases::v1;

// Writes `data` as one blob; returns its digest ("" on failure).
std::string put_blob(cv1::Content::Stub& stub, const std::string& ref, const std::string& data,
                     bool root) {
    auto ctx = context("default", 20);
    auto stream = stub.Write(ctx.get());
    cv1::WriteContentRequest w;
    w.set_action(cv1::WRITE);
    w.set_ref(ref);
    w.set_total(static_cast<std::int64_t>(data.size()));
    w.set_data(data);
    cv1::WriteContentResponse resp;
    if (!stream->Write(w) || !stream->Read(&resp)) return "";
    cv1::WriteContentRequest c;
    c.set_action(cv1::COMMIT);
    c.set_ref(ref);
    c.set_offset(static_cast<std::int64_t>(data.size()));
    c.set_total(static_cast<std::int64_t>(data.size()));
    if (root) (*c.mutable_labels())["containerd.io/gc.root"] = "keep";
    if (!stream->Write(c) || !stream->Read(&resp)) return "";
    stream->WritesDone();
    return stream->Finish().ok() ? resp.digest() : "";
}

std::set<std::string> listed(cv1::Content::Stub& stub) {
    std::set<std::string> out;
    auto ctx = context();
    auto reader = stub.List(ctx.get(), cv1::ListContentRequest{});
    cv1::ListContentResponse resp;
    while (reader->Read(&resp))
        for (const auto& i : resp.info())
            out.insert(i.digest());
    EXPECT_TRUE(reader->Finish().ok());
    return out;
}

std::set<std::string> on_disk(const Daemon& d) {
    std::set<std::string> out;
    auto dir =
        std::filesystem::path(d.root()) / "io.containerd.content.v1.content" / "blobs" / "sha256";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        out.insert("sha256:" + e.path().filename().string());
    return out;
}

std::string read_all(cv1::Content::Stub& stub, const std::string& digest) {
    auto ctx = context();
    cv1::ReadContentRequest req;
    req.set_digest(digest);
    auto reader = stub.Read(ctx.get(), req);
    std::string data;
    cv1::ReadContentResponse resp;
    while (reader->Read(&resp))
        data += resp.data();
    return reader->Finish().ok() ? data : "<read failed>";
}

// A sync lease delete runs one full collection and returns when it is done.
void collect_now(const Daemon& d) {
    auto stub = lv1::Leases::NewStub(channel(d.socket()));
    lv1::CreateRequest creq;
    lv1::CreateResponse cresp;
    ASSERT_TRUE(stub->Create(context().get(), creq, &cresp).ok());
    lv1::DeleteRequest dreq;
    dreq.set_id(cresp.lease().id());
    dreq.set_sync(true);
    google::protobuf::Empty e;
    auto st = stub->Delete(context().get(), dreq, &e);
    ASSERT_TRUE(st.ok()) << st.error_message();
}

TEST(GcCrash, SigkillDuringCollectionLeavesNoOrphansAndLosesNoReferencedBlob) {
    Daemon d;
    ASSERT_GT(d.pid(), 0) << d.log();
    std::map<std::string, std::string> keepers; // digest -> data
    std::mt19937 rng(7);
    for (int round = 0; round < 4; ++round) {
        auto stub = cv1::Content::NewStub(channel(d.socket()));
        for (int k = 0; k < 3; ++k) {
            std::string data = "keeper " + std::to_string(round) + "/" + std::to_string(k) + " " +
                               std::string(4096 + k, static_cast<char>('a' + k));
            auto dg = put_blob(*stub, "keep-" + std::to_string(round) + "-" + std::to_string(k),
                               data, true);
            ASSERT_FALSE(dg.empty());
            keepers[dg] = data;
        }
        std::vector<std::string> doomed;
        for (int i = 0; i < 80; ++i) {
            auto dg = put_blob(*stub, "tmp-" + std::to_string(round) + "-" + std::to_string(i),
                               "garbage " + std::to_string(round) + "/" + std::to_string(i) +
                                   std::string(2048, 'g'),
                               false);
            if (!dg.empty()) doomed.push_back(dg);
        }
        // Each delete marks the store dirty and the scheduler collects right away: the kill
        // below lands while collections run.
        std::thread deleter([&] {
            auto s = cv1::Content::NewStub(channel(d.socket()));
            for (const auto& dg : doomed) {
                cv1::DeleteContentRequest req;
                req.set_digest(dg);
                google::protobuf::Empty e;
                if (!s->Delete(context("default", 2).get(), req, &e).ok()) break;
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 120));
        d.kill9();
        deleter.join();
        ASSERT_TRUE(d.start()) << "restart after SIGKILL failed:\n" << d.log();
    }

    auto stub = cv1::Content::NewStub(channel(d.socket()));
    // Whatever the kills interrupted, deleting what is left and collecting once must leave
    // exactly the rooted blobs, on disk as in the records, each byte for byte.
    for (const auto& dg : listed(*stub)) {
        if (keepers.count(dg)) continue;
        cv1::DeleteContentRequest req;
        req.set_digest(dg);
        google::protobuf::Empty e;
        // NotFound is fine: unreferenced, it may already have been collected by the
        // restarted daemon's startup pass.
        auto st = stub->Delete(context().get(), req, &e);
        EXPECT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::NOT_FOUND)
            << st.error_message();
    }
    collect_now(d);
    std::set<std::string> want;
    for (const auto& [dg, data] : keepers)
        want.insert(dg);
    EXPECT_EQ(listed(*stub), want);
    EXPECT_EQ(on_disk(d), want) << "orphaned or missing blob files";
    for (const auto& [dg, data] : keepers)
        EXPECT_EQ(read_all(*stub, dg), data) << dg;
}

} // namespace
} // namespace gantry::itest
