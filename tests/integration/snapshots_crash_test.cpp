// A daemon SIGKILLed while clients prepare, commit and remove snapshots restarts consistent:
// every snapshot record still names backend data (the metadata layer writes a record only after
// the backend holds the snapshot), and after a prune no backend snapshot is left that no record
// names (what a crash between the backend call and the record leaves is an orphan, never a
// dangling record).
#include "core/metadata/database.hpp"
#include "core/metadata/snapshots.hpp"
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"

#include <atomic>
#include <filesystem>
#include <gtest/gtest.h>
#include <iostream>
#include <random>
#include <set>
#include <thread>

namespace gantry::itest {
namespace {

namespace sv1 = containerd::services::snapshots::v1;

// Clients that build chains, commit them and remove them, until the daemon dies.
void churn(const std::string& socket, int id, std::atomic<bool>& stop) {
    auto stub = sv1::Snapshots::NewStub(channel(socket));
    for (int i = 0; !stop; ++i) {
        const std::string k = "c" + std::to_string(id) + "-" + std::to_string(i);
        sv1::PrepareSnapshotRequest p;
        p.set_snapshotter("native");
        p.set_key(k);
        if (i % 3 != 0) (*p.mutable_labels())["containerd.io/gc.root"] = "x";
        sv1::PrepareSnapshotResponse pr;
        if (!stub->Prepare(context("default", 5).get(), p, &pr).ok()) continue;
        sv1::CommitSnapshotRequest c;
        c.set_snapshotter("native");
        c.set_key(k);
        c.set_name(k + "-done");
        (*c.mutable_labels())["containerd.io/gc.root"] = "x";
        google::protobuf::Empty e;
        (void)stub->Commit(context("default", 5).get(), c, &e);
        if (i % 2 == 0) {
            sv1::RemoveSnapshotRequest r;
            r.set_snapshotter("native");
            r.set_key(k + "-done");
            (void)stub->Remove(context("default", 5).get(), r, &e);
        }
    }
}

std::size_t dirs(const Daemon& d) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(
             d.root() + "/io.containerd.snapshotter.v1.native/snapshots", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

TEST(SnapshotsCrash, KilledDuringChurnRestartsConsistent) {
    // No GC pass of its own: records must not change between the listing and the check.
    Daemon d(Daemon::Options{.config_text =
                                 "version = 2\n[plugins.\"io.containerd.gc.v1.scheduler\"]\n"
                                 "deletion_threshold = 100000\nmutation_threshold = 1000000\n"
                                 "startup_delay = \"1h\"\n"});
    ASSERT_GT(d.pid(), 0) << d.log();
    std::mt19937 rng(42);
    for (int round = 0; round < 3; ++round) {
        std::atomic<bool> stop{false};
        std::vector<std::thread> clients;
        for (int c = 0; c < 3; ++c)
            clients.emplace_back(churn, d.socket(), round * 10 + c, std::ref(stop));
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
        d.kill9();
        stop = true;
        for (auto& t : clients)
            t.join();
        ASSERT_TRUE(d.start()) << d.log();
    }
    // Every record lists (a record whose backend data is missing would be skipped by List).
    auto stub = sv1::Snapshots::NewStub(channel(d.socket()));
    sv1::ListSnapshotsRequest req;
    req.set_snapshotter("native");
    auto ctx = context();
    auto reader = stub->List(ctx.get(), req);
    sv1::ListSnapshotsResponse resp;
    std::size_t listed = 0;
    std::set<std::string> listed_keys;
    while (reader->Read(&resp)) {
        listed += static_cast<std::size_t>(resp.info_size());
        for (const auto& i : resp.info())
            listed_keys.insert(i.name());
    }
    ASSERT_TRUE(reader->Finish().ok());
    // Prune: orphans from the kills (and removed snapshots) go.
    auto pr = d.gantry({"snapshots", "--snapshotter", "native", "prune"});
    ASSERT_EQ(pr.exit_code, 0) << pr.err;
    std::cerr << "prune after the kills: "
              << pr.out.substr(pr.out.rfind('\n', pr.out.size() - 2) + 1);
    const std::size_t on_disk = dirs(d);
    ASSERT_EQ(d.stop(), 0);
    // The records, read straight from the metadata database.
    auto db = metadata::Database::open(d.root());
    ASSERT_TRUE(db.ok()) << db.error().message();
    auto keys = db->view(
        [](const metadata::Txn& txn) { return metadata::referenced_backend_keys(txn, "native"); });
    ASSERT_TRUE(keys.ok()) << keys.error().message();
    const std::set<std::string> named(keys->begin(), keys->end());
    EXPECT_GT(named.size(), 0u);
    std::string missing;
    for (const auto& k : *keys)
        if (!listed_keys.count(k.substr(k.find('/', k.find('/') + 1) + 1))) missing += k + " ";
    EXPECT_EQ(listed, keys->size()) << "records without backend data: " << missing << "\n"
                                    << d.log();
    EXPECT_EQ(on_disk, named.size()) << "backend snapshots and records disagree: " << pr.out;
}

} // namespace
} // namespace gantry::itest
