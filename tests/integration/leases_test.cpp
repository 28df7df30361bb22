// Leases through gantryd with the real `ctr` and the project's CLI: create, list (with filters),
// remove (also synchronously), and the errors a user sees.
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <gtest/gtest.h>
#include <regex>

namespace gantry::itest {
namespace {

class LeasesTest : public SharedDaemonTest<LeasesTest> {
protected:
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

TEST_F(LeasesTest, CtrCreateListRemove) {
    auto c = d().ctr({"leases", "create", "--id", "ctr-one", "team=red"}, "lt1");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(trim(c.out), "ctr-one");
    auto gen = d().ctr({"leases", "create", "-x", "0"}, "lt1");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const std::string generated = trim(gen.out);
    EXPECT_TRUE(std::regex_match(generated, std::regex("^[0-9]+-[A-Za-z0-9_-]{4}$"))) << generated;

    auto ls = d().ctr({"leases", "ls"}, "lt1");
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(contains(ls.out, "ID")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "CREATED AT")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "ctr-one")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "containerd.io/gc.expire=")) << ls.out; // default 24h
    EXPECT_TRUE(contains(ls.out, "team=red")) << ls.out;
    EXPECT_TRUE(contains(ls.out, generated)) << ls.out;

    auto q = d().ctr({"leases", "ls", "-q", "labels.team==red"}, "lt1");
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_EQ(q.out, "ctr-one\n");

    // Namespaces are isolated.
    auto other = d().ctr({"leases", "ls", "-q"}, "lt-other");
    EXPECT_EQ(other.out, "");

    auto dup = d().ctr({"leases", "create", "--id", "ctr-one"}, "lt1");
    EXPECT_NE(dup.exit_code, 0);
    EXPECT_TRUE(contains(dup.err, "already exists")) << dup.err;

    auto rm = d().ctr({"leases", "rm", "--sync", "ctr-one", generated}, "lt1");
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(rm.out, "ctr-one\n" + generated + "\n");
    auto after = d().ctr({"leases", "ls", "-q"}, "lt1");
    EXPECT_EQ(after.out, "");

    auto missing = d().ctr({"leases", "rm", "ctr-one"}, "lt1");
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_TRUE(contains(missing.err, "lease \"ctr-one\": not found")) << missing.err;
}

TEST_F(LeasesTest, GantryCreateListRemove) {
    auto c = d().gantry({"leases", "create", "--id", "g1", "--expires", "1h", "a=b"}, "lt2");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "g1\n");
    auto c2 = d().gantry({"leases", "create", "--id", "g2", "-x", "0"}, "lt2");
    ASSERT_EQ(c2.exit_code, 0) << c2.err;

    auto ls = d().gantry({"leases", "ls"}, "lt2");
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(ls.out.starts_with("ID ")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "a=b,containerd.io/gc.expire=")) << ls.out;
    EXPECT_TRUE(std::regex_search(ls.out, std::regex("g2 +[0-9T:+-]+Z? +- *\n"))) << ls.out;

    // What gantry creates, ctr sees the same way.
    auto ctr_ls = d().ctr({"leases", "ls", "-q", "id==g1"}, "lt2");
    EXPECT_EQ(ctr_ls.out, "g1\n");

    auto bad = d().gantry({"leases", "ls", "id=="}, "lt2");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_TRUE(contains(bad.err, "gantry: failed to list leases")) << bad.err;

    auto rm = d().gantry({"leases", "rm", "--sync", "g1", "nope", "g2"}, "lt2");
    EXPECT_EQ(rm.exit_code, 1);
    EXPECT_EQ(rm.out, "g1\ng2\n");
    EXPECT_TRUE(contains(rm.err, "gantry: unable to delete lease nope: lease \"nope\": not found"))
        << rm.err;

    auto empty = d().gantry({"leases", "ls"}, "lt2");
    ASSERT_EQ(empty.exit_code, 0) << empty.err;
    EXPECT_TRUE(contains(empty.err, "no leases in namespace \"lt2\"")) << empty.err;
}

TEST_F(LeasesTest, GcPluginIsListedAndLeaseServiceNeedsANamespace) {
    auto ls = d().ctr({"plugins", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_TRUE(contains(ls.out, "io.containerd.gc.v1")) << ls.out;
    EXPECT_TRUE(contains(ls.out, "leases-service")) << ls.out;
    auto grpc = d().ctr({"plugins", "ls", "id==leases"});
    EXPECT_TRUE(contains(grpc.out, "ok")) << grpc.out;
}

} // namespace
} // namespace gantry::itest
