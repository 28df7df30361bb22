// Metadata survives a daemon killed with SIGKILL in the middle of writes: every write the
// daemon acknowledged is there after a restart, and the store opens clean.
#include "services/namespaces/v1/namespaces.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"

#include <atomic>
#include <gtest/gtest.h>
#include <set>
#include <thread>

namespace gantry::itest {
namespace {

namespace nsv1 = containerd::services::namespaces::v1;

TEST(Crash, AcknowledgedNamespacesSurviveSigkillMidWrite) {
    Daemon d;
    ASSERT_GT(d.pid(), 0) << d.log();
    std::set<std::string> acked;
    int next = 0;
    for (int round = 0; round < 4; ++round) {
        std::atomic<bool> stop{false};
        std::vector<std::string> round_acked;
        // Two writers, so the kill lands while transactions are in flight.
        std::vector<std::thread> writers;
        std::mutex mu;
        for (int w = 0; w < 2; ++w) {
            writers.emplace_back([&, w] {
                auto s = nsv1::Namespaces::NewStub(channel(d.socket()));
                for (int i = 0; !stop; ++i) {
                    std::string name = "r" + std::to_string(round) + "-w" + std::to_string(w) +
                                       "-" + std::to_string(i);
                    nsv1::CreateNamespaceRequest req;
                    req.mutable_namespace_()->set_name(name);
                    (*req.mutable_namespace_()->mutable_labels())["copy"] = name;
                    nsv1::CreateNamespaceResponse resp;
                    auto ctx = context("default", 2);
                    if (s->Create(ctx.get(), req, &resp).ok()) {
                        std::lock_guard lk(mu);
                        round_acked.push_back(name);
                    } else if (stop) {
                        break;
                    }
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(150 + 60 * round));
        d.kill9();
        stop = true;
        for (auto& t : writers)
            t.join();
        acked.insert(round_acked.begin(), round_acked.end());
        next += static_cast<int>(round_acked.size());

        ASSERT_TRUE(d.start()) << "restart after SIGKILL failed:\n" << d.log();
        auto s = nsv1::Namespaces::NewStub(channel(d.socket()));
        nsv1::ListNamespacesRequest req;
        nsv1::ListNamespacesResponse resp;
        auto ctx = context();
        ASSERT_TRUE(s->List(ctx.get(), req, &resp).ok());
        std::set<std::string> present;
        for (const auto& n : resp.namespaces()) {
            present.insert(n.name());
            // Each namespace is whole: its label was written in the same transaction.
            if (n.name() != "default")
                EXPECT_EQ(n.labels().count("copy") ? n.labels().at("copy") : "", n.name());
        }
        for (const auto& name : acked)
            EXPECT_TRUE(present.count(name)) << "lost " << name;
    }
    EXPECT_GT(next, 20) << "the writers made progress before each kill";
}

} // namespace
} // namespace gantry::itest
