#include "core/filters/filter.hpp"
#include "core/metadata/leases.hpp"
#include "core/metadata/schema.hpp"
#include "metadata_test_util.hpp"

#include <gtest/gtest.h>
#include <regex>
#include <set>

namespace gantry::metadata::leases {
namespace {

using testing::DatabaseTest;

constexpr std::string_view kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class Leases : public DatabaseTest {
protected:
    Result<Lease> create(std::string_view ns, std::string_view id, const Labels& labels = {}) {
        return db().update([&](WriteTxn& txn) { return leases::create(txn, ns, id, labels); });
    }
    Status remove(std::string_view ns, std::string_view id) {
        return db().update([&](WriteTxn& txn) { return leases::remove(txn, ns, id); });
    }
    std::vector<std::string> ids(std::string_view ns, std::vector<std::string> filters = {}) {
        auto filter = filters::parse(std::span<const std::string>(filters));
        EXPECT_TRUE(filter.ok());
        auto list = db().view([&](const Txn& txn) { return leases::list(txn, ns, *filter); });
        EXPECT_TRUE(list.ok()) << list.error().message();
        std::vector<std::string> out;
        if (list.ok())
            for (auto& l : *list)
                out.push_back(l.id);
        return out;
    }
    Status add(std::string_view ns, std::string_view id, Resource r) {
        return db().update([&](WriteTxn& txn) { return add_resource(txn, ns, id, r); });
    }
    Status del(std::string_view ns, std::string_view id, Resource r) {
        return db().update([&](WriteTxn& txn) { return delete_resource(txn, ns, id, r); });
    }
    Result<std::vector<Resource>> resources(std::string_view ns, std::string_view id) {
        return db().view([&](const Txn& txn) { return list_resources(txn, ns, id); });
    }
};

TEST(LeaseIds, GeneratedLikeContainerd) {
    const std::regex shape("^[0-9]{1,9}-[A-Za-z0-9_-]{4}$");
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const std::string id = generate_id();
        EXPECT_TRUE(std::regex_match(id, shape)) << id;
        seen.insert(id);
    }
    EXPECT_GT(seen.size(), 190u); // random: collisions are rare
}

TEST_F(Leases, CreateGetListDelete) {
    auto l = create("default", "one", {{"a", "1"}});
    ASSERT_TRUE(l.ok()) << l.error().message();
    EXPECT_EQ(l->id, "one");
    EXPECT_EQ(l->labels, (Labels{{"a", "1"}}));
    EXPECT_GT(l->created_at.seconds, 1600000000);
    ASSERT_OK(create("default", "two"));
    EXPECT_EQ(ids("default"), (std::vector<std::string>{"one", "two"}));
    auto got = db().view([&](const Txn& txn) { return get(txn, "default", "one"); });
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->created_at, l->created_at);
    EXPECT_EQ(got->labels, l->labels);

    ASSERT_OK(remove("default", "one"));
    EXPECT_EQ(ids("default"), (std::vector<std::string>{"two"}));
    auto again = remove("default", "one");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), Errc::NotFound);
    EXPECT_EQ(again.error().wire_message(), "lease \"one\": not found");
}

TEST_F(Leases, EmptyIdIsGeneratedAndIdsAreNotValidated) {
    auto l = create("default", "");
    ASSERT_TRUE(l.ok());
    EXPECT_FALSE(l->id.empty());
    ASSERT_OK(create("default", "not an identifier/with slash"));
    EXPECT_EQ(ids("default").size(), 2u);
}

TEST_F(Leases, DuplicateIsAlreadyExistsAndKeepsTheOriginal) {
    ASSERT_OK(create("default", "x", {{"k", "v"}}));
    auto dup = create("default", "x", {{"other", "1"}});
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code(), Errc::AlreadyExists);
    EXPECT_EQ(dup.error().wire_message(), "lease \"x\": already exists");
    auto got = db().view([&](const Txn& txn) { return get(txn, "default", "x"); });
    EXPECT_EQ(got->labels, (Labels{{"k", "v"}}));
}

TEST_F(Leases, BadLabelsAndNamespacesAreRefusedAndWriteNothing) {
    auto big = create("default", "x", {{"k", std::string(5000, 'v')}});
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code(), Errc::InvalidArgument);
    auto badns = create("bad ns", "x");
    ASSERT_FALSE(badns.ok());
    EXPECT_EQ(badns.error().code(), Errc::InvalidArgument);
    EXPECT_TRUE(ids("default").empty());
}

TEST_F(Leases, NamespacesAreIsolated) {
    ASSERT_OK(create("a", "x"));
    ASSERT_OK(create("b", "x"));
    ASSERT_OK(remove("a", "x"));
    EXPECT_TRUE(ids("a").empty());
    EXPECT_EQ(ids("b"), (std::vector<std::string>{"x"}));
    auto missing = remove("c", "x");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), Errc::NotFound);
}

TEST_F(Leases, Filters) {
    ASSERT_OK(create("default", "a", {{"team", "red"}, {"containerd.io/gc.flat", "1"}}));
    ASSERT_OK(create("default", "b", {{"team", "blue"}}));
    ASSERT_OK(create("default", "c"));
    EXPECT_EQ(ids("default", {"id==b"}), (std::vector<std::string>{"b"}));
    EXPECT_EQ(ids("default", {"labels.team==red"}), (std::vector<std::string>{"a"}));
    EXPECT_EQ(ids("default", {"labels.team"}), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(ids("default", {"labels.\"containerd.io/gc.flat\""}),
              (std::vector<std::string>{"a"}));
    EXPECT_EQ(ids("default", {"id==a", "id==c"}), (std::vector<std::string>{"a", "c"}));
    // != matches an absent field, as in containerd.
    EXPECT_EQ(ids("default", {"id~=^[bc]$,labels.team!=blue"}), (std::vector<std::string>{"c"}));
}

TEST_F(Leases, Resources) {
    ASSERT_OK(create("default", "l"));
    ASSERT_OK(add("default", "l", {std::string(kDigest), "content"}));
    ASSERT_OK(add("default", "l", {"ref-1", "ingests"}));
    ASSERT_OK(add("default", "l", {"key/with/slash", "snapshots/overlayfs"}));
    ASSERT_OK(add("default", "l", {"k2", "snapshots/native"}));
    ASSERT_OK(add("default", "l", {"ref-1", "ingests"})); // twice is fine
    auto rs = resources("default", "l");
    ASSERT_TRUE(rs.ok()) << rs.error().message();
    EXPECT_EQ(*rs, (std::vector<Resource>{{std::string(kDigest), "content"},
                                          {"ref-1", "ingests"},
                                          {"k2", "snapshots/native"},
                                          {"key/with/slash", "snapshots/overlayfs"}}));
    ASSERT_OK(del("default", "l", {"ref-1", "ingests"}));
    ASSERT_OK(del("default", "l", {"never-added", "ingests"}));
    ASSERT_OK(del("default", "l", {"k2", "snapshots/native"}));
    rs = resources("default", "l");
    EXPECT_EQ(rs->size(), 2u);

    // Deleting the lease removes its resource records with it.
    ASSERT_OK(remove("default", "l"));
    ASSERT_OK(create("default", "l"));
    EXPECT_TRUE(resources("default", "l")->empty());
}

TEST_F(Leases, ResourceErrors) {
    ASSERT_OK(create("default", "l"));
    struct Case {
        Resource r;
        Errc code;
    };
    for (const auto& c : std::vector<Case>{
             {{"not-a-digest", "content"}, Errc::InvalidArgument},
             {{"sha256:ABC", "content"}, Errc::InvalidArgument},
             {{std::string(kDigest), "content/x"}, Errc::InvalidArgument},
             {{"ref", "ingests/x"}, Errc::InvalidArgument},
             {{"key", "snapshots"}, Errc::InvalidArgument},
             {{"key", "snapshots/a/b"}, Errc::InvalidArgument},
             {{"x", "containers"}, Errc::NotImplemented},
             {{"x", ""}, Errc::NotImplemented},
         }) {
        auto st = add("default", "l", c.r);
        ASSERT_FALSE(st.ok()) << c.r.type << " " << c.r.id;
        EXPECT_EQ(st.error().code(), c.code) << c.r.type << " " << c.r.id;
        auto st2 = del("default", "l", c.r);
        ASSERT_FALSE(st2.ok());
        EXPECT_EQ(st2.error().code(), c.code);
    }
    EXPECT_TRUE(resources("default", "l")->empty());
    for (auto st : {add("default", "missing", {std::string(kDigest), "content"}),
                    del("default", "missing", {std::string(kDigest), "content"})}) {
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code(), Errc::NotFound);
        EXPECT_EQ(st.error().wire_message(), "lease \"missing\": not found");
    }
    auto rs = resources("default", "missing");
    ASSERT_FALSE(rs.ok());
    EXPECT_EQ(rs.error().code(), Errc::NotFound);
}

TEST_F(Leases, WritesTheContainerdLayout) {
    ASSERT_OK(create("default", "l", {{"k", "v"}}));
    ASSERT_OK(add("default", "l", {std::string(kDigest), "content"}));
    write([&](WriteTxn& txn) {
        auto lease = schema::object_bucket("default", schema::kLeases).child("l");
        auto created = get_value(txn, lease, schema::kCreatedAt);
        ASSERT_TRUE(created.ok() && created->has_value());
        EXPECT_EQ((*created)->size(), 15u); // Go's MarshalBinary
        auto v = get_value(txn, lease.child("content"), kDigest);
        ASSERT_TRUE(v.ok() && v->has_value());
        EXPECT_EQ(**v, "");
        auto label = get_value(txn, lease.child("labels"), "k");
        EXPECT_EQ(**label, "v");
    });
}

} // namespace
} // namespace gantry::metadata::leases
