// The real containerd client (`ctr`, Debian's containerd 1.6) and the project's CLI against one
// gantryd: version, plugins, namespaces, and the errors a user sees.
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <thread>

namespace gantry::itest {
namespace {

class CtrTest : public SharedDaemonTest<CtrTest> {
protected:
};

TEST_F(CtrTest, CtrVersionSeesAContainerd16Server) {
    auto v = d().ctr({"version"});
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_TRUE(contains(v.out, "Server:")) << v.out;
    EXPECT_TRUE(contains(v.out, "Version:  1.6.20+gantry")) << v.out;
}

TEST_F(CtrTest, GantryVersionShowsClientAndServer) {
    auto v = d().gantry({"version"});
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_TRUE(contains(v.out, "Client:")) << v.out;
    EXPECT_TRUE(contains(v.out, "Server:")) << v.out;
    EXPECT_TRUE(contains(v.out, "1.6.20+gantry")) << v.out;
}

TEST_F(CtrTest, CtrPluginsListsServicesWithStatus) {
    auto ls = d().ctr({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    for (const char* id : {"version", "namespaces", "introspection", "healthcheck"})
        EXPECT_TRUE(contains(ls.out, id)) << id << "\n" << ls.out;
    EXPECT_TRUE(contains(ls.out, "io.containerd.metadata.v1")) << ls.out;
    // No metrics address in the default config: the metrics plugin skips, with its reason.
    auto metrics = d().ctr({"plugins", "ls", "-d", "id==metrics"});
    EXPECT_TRUE(contains(metrics.out, "no [metrics] address configured")) << metrics.out;
    auto filtered = d().ctr({"plugins", "ls", "type==io.containerd.grpc.v1"});
    ASSERT_EQ(filtered.exit_code, 0);
    EXPECT_FALSE(contains(filtered.out, "io.containerd.metadata.v1")) << filtered.out;
}

TEST_F(CtrTest, GantryPluginsTableIsAligned) {
    auto ls = d().gantry({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto header_end = ls.out.find('\n');
    ASSERT_NE(header_end, std::string::npos);
    std::string header = ls.out.substr(0, header_end);
    auto status_col = header.find("STATUS");
    ASSERT_NE(status_col, std::string::npos) << header;
    // Every row has its status word starting in the STATUS column.
    std::size_t pos = header_end + 1;
    int rows = 0;
    while (pos < ls.out.size()) {
        auto end = ls.out.find('\n', pos);
        std::string row = ls.out.substr(pos, end - pos);
        pos = end == std::string::npos ? ls.out.size() : end + 1;
        if (row.empty()) continue;
        ++rows;
        ASSERT_GT(row.size(), status_col) << row;
        EXPECT_NE(row[status_col], ' ') << row;
        EXPECT_EQ(row[status_col - 1], ' ') << row;
    }
    EXPECT_GE(rows, 5);
}

TEST_F(CtrTest, NamespaceLifecycleWithCtr) {
    auto c = d().ctr({"namespaces", "create", "ctr-ns", "team=infra", "tier=gold"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    auto ls = d().ctr({"namespaces", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(contains(ls.out, "ctr-ns")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "team=infra,tier=gold")) << ls.out;

    auto dup = d().ctr({"namespaces", "create", "ctr-ns"});
    EXPECT_NE(dup.exit_code, 0);
    EXPECT_TRUE(contains(dup.err, "already exists")) << dup.err;

    auto lbl = d().ctr({"namespaces", "label", "ctr-ns", "team=platform", "tier="});
    ASSERT_EQ(lbl.exit_code, 0) << lbl.err;
    ls = d().ctr({"namespaces", "ls"});
    EXPECT_TRUE(contains(ls.out, "team=platform")) << ls.out;
    EXPECT_FALSE(contains(ls.out, "tier=gold")) << ls.out;

    auto q = d().ctr({"namespaces", "ls", "-q"});
    EXPECT_TRUE(contains(q.out, "ctr-ns\n")) << q.out;

    auto rm = d().ctr({"namespaces", "rm", "ctr-ns"});
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_TRUE(contains(rm.out, "ctr-ns")) << rm.out;
    EXPECT_FALSE(contains(d().ctr({"namespaces", "ls", "-q"}).out, "ctr-ns"));
}

TEST_F(CtrTest, NamespaceLifecycleWithGantry) {
    auto c = d().gantry({"namespaces", "create", "g-ns", "owner=me"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    auto ls = d().gantry({"namespaces", "ls"});
    EXPECT_TRUE(contains(ls.out, "g-ns")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "owner=me")) << ls.out;
    // What one client wrote, the other reads.
    EXPECT_TRUE(contains(d().ctr({"namespaces", "ls"}).out, "owner=me"));
    auto lbl = d().gantry({"namespaces", "label", "g-ns", "owner=you"});
    ASSERT_EQ(lbl.exit_code, 0) << lbl.err;
    EXPECT_TRUE(contains(d().gantry({"ns", "ls"}).out, "owner=you"));
    auto rm = d().gantry({"namespaces", "rm", "g-ns"});
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    auto q = d().gantry({"namespaces", "ls", "-q"});
    EXPECT_FALSE(contains(q.out, "g-ns")) << q.out;
}

TEST_F(CtrTest, InvalidNamespaceNameIsRefusedByBothClients) {
    for (const std::string& bad : {std::string("bad_name!"), std::string(77, 'a'),
                                   std::string("trailing-"), std::string("a..b")}) {
        auto c = d().ctr({"namespaces", "create", bad});
        EXPECT_NE(c.exit_code, 0) << bad;
        auto g = d().gantry({"namespaces", "create", bad});
        EXPECT_NE(g.exit_code, 0) << bad;
        EXPECT_TRUE(contains(g.err, "invalid argument") || contains(g.err, "identifier")) << g.err;
        EXPECT_EQ(std::count(g.err.begin(), g.err.end(), '\n'), 1) << "one line: " << g.err;
    }
    EXPECT_TRUE(contains(d().gantry({"namespaces", "create", std::string(77, 'a')}).err,
                         "greater than maximum length (76 characters)"));
}

TEST_F(CtrTest, OversizedLabelIsRefusedAndNothingIsStored) {
    std::string big(4100, 'v');
    auto c = d().gantry({"namespaces", "create", "big-label", "k=" + big});
    EXPECT_NE(c.exit_code, 0);
    EXPECT_TRUE(contains(c.err, "4096")) << c.err;
    EXPECT_FALSE(contains(d().gantry({"namespaces", "ls", "-q"}).out, "big-label"));

    ASSERT_EQ(d().gantry({"namespaces", "create", "keep-me", "a=1"}).exit_code, 0);
    auto l = d().gantry({"namespaces", "label", "keep-me", "k=" + big});
    EXPECT_NE(l.exit_code, 0);
    EXPECT_TRUE(contains(d().gantry({"namespaces", "ls"}).out, "a=1")) << "old labels kept";
    EXPECT_EQ(d().gantry({"namespaces", "rm", "keep-me"}).exit_code, 0);
}

TEST_F(CtrTest, RemovingAMissingNamespaceIsIdempotentButSaysSo) {
    // ctr treats NotFound as removed; so do we, with a note on stderr.
    auto g = d().gantry({"namespaces", "rm", "never-made"});
    EXPECT_EQ(g.exit_code, 0);
    EXPECT_TRUE(contains(g.err, "namespace \"never-made\" not found")) << g.err;
}

TEST_F(CtrTest, RemovesSeveralNamespacesInOneCall) {
    ASSERT_EQ(d().gantry({"namespaces", "create", "multi-a"}).exit_code, 0);
    ASSERT_EQ(d().gantry({"namespaces", "create", "multi-b"}).exit_code, 0);
    auto rm = d().gantry({"namespaces", "rm", "multi-a", "also-missing", "multi-b"});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_TRUE(contains(rm.out, "multi-a\n")) << rm.out;
    EXPECT_TRUE(contains(rm.out, "multi-b\n")) << rm.out;
    auto ls = d().gantry({"namespaces", "ls", "-q"}).out;
    EXPECT_FALSE(contains(ls, "multi-a")) << ls;
    EXPECT_FALSE(contains(ls, "multi-b")) << ls;
}

TEST_F(CtrTest, UnimplementedServicesAnswerUnimplemented) {
    // ctr prints the gRPC status; each of these reaches a service that is not built yet.
    const std::vector<std::vector<std::string>> cmds{
        {"containers", "ls"}, {"tasks", "ls"}};
    for (const auto& cmd : cmds) {
        auto o = d().ctr(cmd);
        EXPECT_NE(o.exit_code, 0) << cmd[0];
        EXPECT_TRUE(contains(o.err, "not implemented") || contains(o.err, "Unimplemented"))
            << cmd[0] << ": " << o.err;
    }
}

TEST_F(CtrTest, CtrEventsSeesNamespaceCreateAndDelete) {
    Output events;
    // ctr events streams until killed: the harness's timeout ends it after the changes below.
    std::thread watcher([&] {
        events = run({"ctr", "--address", d().socket(), "events"}, {}, std::chrono::seconds(3));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    ASSERT_EQ(d().gantry({"namespaces", "create", "evt-ns", "k=v"}).exit_code, 0);
    ASSERT_EQ(d().gantry({"namespaces", "rm", "evt-ns"}).exit_code, 0);
    watcher.join();
    EXPECT_TRUE(contains(events.out, "/namespaces/create")) << events.out << events.err;
    EXPECT_TRUE(contains(events.out, "evt-ns")) << events.out;
    EXPECT_TRUE(contains(events.out, "/namespaces/delete")) << events.out;
}

TEST_F(CtrTest, UnreachableDaemonIsOneLineError) {
    auto o = run({bin("gantry"), "--address", "/tmp/gt-nonexistent/none.sock", "--connect-timeout",
                  "1s", "version"});
    EXPECT_NE(o.exit_code, 0);
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_TRUE(contains(o.err, "/tmp/gt-nonexistent/none.sock")) << o.err;
}

TEST_F(CtrTest, EnvironmentSelectsAddressAndNamespace) {
    ASSERT_EQ(d().gantry({"namespaces", "create", "env-ns"}).exit_code, 0);
    auto o = run({bin("gantry"), "namespaces", "ls", "-q"}, {{"GANTRY_ADDRESS", d().socket()}});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    EXPECT_TRUE(contains(o.out, "env-ns")) << o.out;
    EXPECT_EQ(d().gantry({"namespaces", "rm", "env-ns"}).exit_code, 0);
}

} // namespace
} // namespace gantry::itest
