// Containers through a real gantryd: records created over raw gRPC (and by `ctr c create`), then
// read, labelled and removed with the real `ctr` and with `gantry`, whose output must be
// byte-identical to ctr's; containerd's status codes and messages; ListStream; events seen by
// `ctr events`; namespaces that cannot see or touch each other's containers; a restart.
#include "runtime/runc/options.pb.h"
#include "services/containers/v1/containers.grpc.pb.h"
#include "services/leases/v1/leases.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <chrono>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

namespace gantry::itest {
namespace {

namespace cv1 = containerd::services::containers::v1;
namespace lv1 = containerd::services::leases::v1;
namespace sv1 = containerd::services::snapshots::v1;
using namespace std::chrono_literals;

constexpr char kSpecType[] = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
// A minimal OCI spec, in the field order Go's specs.Spec marshals, so ctr re-encodes it as is.
constexpr char kSpecJson[] =
    R"({"ociVersion":"1.0.2-dev","process":{"user":{"uid":0,"gid":0},"args":["sh","-c","echo <hi> & bye"],)"
    R"("env":["PATH=/usr/bin:/bin"],"cwd":"/"},"root":{"path":"rootfs"},"hostname":"box",)"
    R"("linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}})";

cv1::Container make(const std::string& id, const std::map<std::string, std::string>& labels = {}) {
    cv1::Container c;
    c.set_id(id);
    c.mutable_labels()->insert(labels.begin(), labels.end());
    c.mutable_runtime()->set_name("io.containerd.runc.v2");
    c.mutable_spec()->set_type_url(kSpecType);
    c.mutable_spec()->set_value(kSpecJson);
    return c;
}

class ContainersTest : public SharedDaemonTest<ContainersTest> {
protected:
    std::unique_ptr<cv1::Containers::Stub> stub() {
        return cv1::Containers::NewStub(channel(d().socket()));
    }
    grpc::Status create(const cv1::Container& c, const std::string& ns = "default",
                        cv1::CreateContainerResponse* out = nullptr) {
        cv1::CreateContainerRequest req;
        *req.mutable_container() = c;
        cv1::CreateContainerResponse resp;
        return stub()->Create(context(ns).get(), req, out != nullptr ? out : &resp);
    }
    grpc::Status get(const std::string& id, const std::string& ns = "default",
                     cv1::GetContainerResponse* out = nullptr) {
        cv1::GetContainerRequest req;
        req.set_id(id);
        cv1::GetContainerResponse resp;
        return stub()->Get(context(ns).get(), req, out != nullptr ? out : &resp);
    }
    grpc::Status update(const cv1::Container& c, std::vector<std::string> paths,
                        const std::string& ns = "default",
                        cv1::UpdateContainerResponse* out = nullptr) {
        cv1::UpdateContainerRequest req;
        *req.mutable_container() = c;
        for (auto& p : paths)
            req.mutable_update_mask()->add_paths(p);
        cv1::UpdateContainerResponse resp;
        return stub()->Update(context(ns).get(), req, out != nullptr ? out : &resp);
    }
    grpc::Status remove(const std::string& id, const std::string& ns = "default") {
        cv1::DeleteContainerRequest req;
        req.set_id(id);
        google::protobuf::Empty empty;
        return stub()->Delete(context(ns).get(), req, &empty);
    }
    // Runs `argv` for `seconds` (coreutils timeout) in the background while `during` runs.
    template <typename F>
    Output watch(std::vector<std::string> argv, int seconds, F during) {
        argv.insert(argv.begin(), {"timeout", "-s", "INT", std::to_string(seconds)});
        Output out;
        std::thread t([&] { out = run(argv); });
        std::this_thread::sleep_for(1s); // let the subscription start
        during();
        t.join();
        return out;
    }
};

TEST_F(ContainersTest, CtrAndGantryListAndInspectGrpcCreatedContainersIdentically) {
    const std::string ns = "lsinfo";
    cv1::Container a = make("app-1", {{"role", "web"}, {"containerd.io/restart.status", "x"}});
    a.set_image("docker.io/library/busybox:latest");
    containerd::runc::v1::Options opts;
    opts.set_binary_name("runc");
    a.mutable_runtime()->mutable_options()->set_type_url("containerd.runc.v1.Options");
    a.mutable_runtime()->mutable_options()->set_value(opts.SerializeAsString());
    a.set_snapshotter("overlayfs");
    a.set_snapshot_key("app-1-rootfs");
    (*a.mutable_extensions())["gantry.test/ext"].set_type_url("x.y/Z");
    (*a.mutable_extensions())["gantry.test/ext"].set_value("\x01\x02\xff");
    cv1::CreateContainerResponse created;
    auto st = create(a, ns, &created);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(created.container().created_at().seconds(),
              created.container().updated_at().seconds());
    EXPECT_GT(created.container().created_at().seconds(), 1700000000);
    EXPECT_EQ(created.container().runtime().options().value(), opts.SerializeAsString());
    cv1::Container b = make("a-much-longer-container-id");
    b.mutable_runtime()->set_name("io.containerd.runsc.v1");
    ASSERT_TRUE(create(b, ns).ok());

    auto ctr_ls = d().ctr({"containers", "ls"}, ns);
    ASSERT_EQ(ctr_ls.exit_code, 0) << ctr_ls.err;
    EXPECT_EQ(ctr_ls.out,
              "CONTAINER                     IMAGE                               RUNTIME        "
              "           \n"
              "a-much-longer-container-id    -                                   "
              "io.containerd.runsc.v1    \n"
              "app-1                         docker.io/library/busybox:latest    "
              "io.containerd.runc.v2     \n");
    for (const auto& alias : {"containers", "container", "c"}) {
        auto g = d().gantry({alias, "ls"}, ns);
        ASSERT_EQ(g.exit_code, 0) << g.err;
        EXPECT_EQ(g.out, ctr_ls.out) << alias;
    }
    for (const std::vector<std::string> args :
         {std::vector<std::string>{"ls", "-q"},
          {"ls", "labels.role==web"},
          {"ls", "runtime.name~=runsc"},
          {"ls", "-q", "id==nope"},
          {"ls", "image==\"docker.io/library/busybox:latest\"",
           "id==a-much-longer-container-id"}}) {
        std::vector<std::string> cmd{"containers"};
        cmd.insert(cmd.end(), args.begin(), args.end());
        auto c = d().ctr(cmd, ns);
        auto g = d().gantry(cmd, ns);
        ASSERT_EQ(c.exit_code, 0) << c.err;
        ASSERT_EQ(g.exit_code, 0) << g.err;
        EXPECT_EQ(g.out, c.out) << args.back();
    }
    EXPECT_EQ(d().gantry({"c", "ls", "-q", "labels.role==web"}, ns).out, "app-1\n");

    for (const auto& id : {"app-1", "a-much-longer-container-id"}) {
        auto c = d().ctr({"containers", "info", id}, ns);
        auto g = d().gantry({"containers", "info", id}, ns);
        ASSERT_EQ(c.exit_code, 0) << c.err;
        ASSERT_EQ(g.exit_code, 0) << g.err;
        EXPECT_EQ(g.out, c.out);
        auto cs = d().ctr({"containers", "info", "--spec", id}, ns);
        auto gs = d().gantry({"containers", "info", "--spec", id}, ns);
        ASSERT_EQ(cs.exit_code, 0) << cs.err;
        EXPECT_EQ(gs.out, cs.out);
    }
    // What both print: the spec decoded, at the end; Go's escaping of < > &.
    auto info = d().gantry({"c", "info", "app-1"}, ns).out;
    EXPECT_TRUE(contains(info, "    \"Spec\": {\n        \"ociVersion\": \"1.0.2-dev\",")) << info;
    EXPECT_TRUE(contains(info, "\\u003chi\\u003e \\u0026 bye")) << info;
    EXPECT_TRUE(contains(info, "\"Snapshotter\": \"overlayfs\"")) << info;

    auto missing = d().gantry({"c", "info", "nope"}, ns);
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.err, "gantry: container \"nope\" in namespace \"lsinfo\": not found\n");
}

TEST_F(ContainersTest, CtrCreatesWithItsOwnClientAndGantryReadsIt) {
    // `ctr c create --config` goes through the Go client's Containers.Create.
    const std::string spec = d().dir() + "/spec.json";
    std::ofstream(spec) << kSpecJson;
    auto c = d().ctr({"containers", "create", "--config", spec, "--label", "made-by=ctr", "byctr"},
                     "ctrcreate");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    cv1::GetContainerResponse got;
    ASSERT_TRUE(get("byctr", "ctrcreate", &got).ok());
    EXPECT_EQ(got.container().runtime().name(), "io.containerd.runc.v2");
    EXPECT_EQ(got.container().spec().type_url(), kSpecType);
    EXPECT_EQ(got.container().labels().at("made-by"), "ctr");
    auto ci = d().ctr({"c", "info", "byctr"}, "ctrcreate");
    auto gi = d().gantry({"c", "info", "byctr"}, "ctrcreate");
    ASSERT_EQ(ci.exit_code, 0) << ci.err;
    EXPECT_EQ(gi.out, ci.out);
    // A second create of the same id is refused.
    c = d().ctr({"containers", "create", "--config", spec, "byctr"}, "ctrcreate");
    EXPECT_NE(c.exit_code, 0);
    EXPECT_TRUE(contains(c.err, "already exists")) << c.err;
}

TEST_F(ContainersTest, LabelAndRemoveWithCtrAndGantry) {
    const std::string ns = "labelrm";
    ASSERT_TRUE(create(make("one", {{"keep", "1"}, {"drop", "1"}}), ns).ok());
    ASSERT_TRUE(create(make("two"), ns).ok());
    ASSERT_TRUE(create(make("three"), ns).ok());

    auto l = d().ctr({"containers", "label", "one", "added=yes", "drop="}, ns);
    ASSERT_EQ(l.exit_code, 0) << l.err;
    cv1::GetContainerResponse got;
    ASSERT_TRUE(get("one", ns, &got).ok());
    EXPECT_EQ(got.container().labels().size(), 2u);
    EXPECT_EQ(got.container().labels().at("added"), "yes");
    EXPECT_EQ(got.container().labels().at("keep"), "1");

    auto g = d().gantry({"containers", "label", "one", "keep=", "flag"}, ns);
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(g.out, "added=yes,flag=true\n");
    auto none = d().gantry({"containers", "label", "missing", "a=b"}, ns);
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_EQ(none.err, "gantry: container \"missing\": not found\n");

    // ctr: quiet on success; a missing id fails, the others are still removed.
    auto rm = d().ctr({"containers", "rm", "one", "missing"}, ns);
    EXPECT_NE(rm.exit_code, 0);
    EXPECT_EQ(rm.out, "");
    EXPECT_EQ(get("one", ns).error_code(), grpc::StatusCode::NOT_FOUND);
    auto grm = d().gantry({"c", "rm", "missing", "two", "three"}, ns);
    EXPECT_EQ(grm.exit_code, 1);
    EXPECT_EQ(grm.out, "");
    EXPECT_EQ(grm.err, "gantry: failed to delete container \"missing\": container \"missing\" in "
                       "namespace \"labelrm\": not found\n");
    EXPECT_EQ(d().ctr({"c", "ls", "-q"}, ns).out, "");
    auto empty = d().gantry({"c", "ls"}, ns);
    EXPECT_EQ(empty.out, "CONTAINER    IMAGE    RUNTIME    \n");
    EXPECT_EQ(empty.out, d().ctr({"c", "ls"}, ns).out);
}

TEST_F(ContainersTest, StatusCodesAndMessagesAreContainerds) {
    const std::string ns = "codes";
    auto bad = [&](cv1::Container c) { return create(c, ns); };
    auto st = bad(make(""));
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), "create container failed validation: container.ID: identifier "
                                  "must not be empty: invalid argument");
    cv1::Container no_runtime = make("nort");
    no_runtime.clear_runtime();
    st = bad(no_runtime);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), "create container failed validation: container.Runtime.Name "
                                  "must be set: invalid argument");
    cv1::Container no_spec = make("nospec");
    no_spec.clear_spec();
    st = bad(no_spec);
    EXPECT_EQ(st.error_message(),
              "create container failed validation: container.Spec must be set: invalid argument");
    cv1::Container key_only = make("keyonly");
    key_only.set_snapshot_key("k");
    EXPECT_EQ(bad(key_only).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    cv1::Container ext = make("ext");
    (*ext.mutable_extensions())[""].set_type_url("t");
    EXPECT_EQ(bad(ext).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    cv1::Container big = make("big", {{"k", std::string(5000, 'v')}});
    EXPECT_EQ(bad(big).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(bad(make("bad id!")).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

    ASSERT_TRUE(create(make("c1"), ns).ok());
    st = create(make("c1"), ns);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_EQ(st.error_message(), "container \"c1\": already exists");

    st = get("zz", ns);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(st.error_message(), "container \"zz\" in namespace \"codes\": not found");

    st = update(make(""), {"labels"}, ns);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), "Container.ID required");
    st = update(make("c1"), {"snapshotter"}, ns);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(),
              "cannot update \"snapshotter\" field on \"c1\": invalid argument");
    cv1::Container other_runtime = make("c1");
    other_runtime.mutable_runtime()->set_name("io.containerd.runsc.v1");
    st = update(other_runtime, {}, ns);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), "container.Runtime.Name field is immutable: invalid argument");
    st = update(make("zz"), {"labels"}, ns);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(st.error_message(), "container \"zz\": not found");

    cv1::UpdateContainerResponse updated;
    cv1::Container img = make("c1");
    img.set_image("new:1");
    ASSERT_TRUE(update(img, {"image"}, ns, &updated).ok());
    EXPECT_EQ(updated.container().image(), "new:1");
    EXPECT_TRUE(updated.container().has_spec());

    st = remove("zz", ns);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(st.error_message(), "container zz: not found");
    EXPECT_TRUE(remove("c1", ns).ok());

    // Bad filters and a missing namespace header.
    cv1::ListContainersRequest lreq;
    lreq.add_filters("id==/x/"); // /.../ is only for ~=
    cv1::ListContainersResponse lresp;
    st = stub()->List(context(ns).get(), lreq, &lresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    st = stub()->List(context("").get(), cv1::ListContainersRequest{}, &lresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(st.error_message(), "namespace is required: failed precondition");
}

TEST_F(ContainersTest, ListStreamSendsOneContainerPerMessage) {
    const std::string ns = "stream";
    for (int i = 0; i < 40; ++i)
        ASSERT_TRUE(
            create(make("s" + std::to_string(100 + i), {{"i", std::to_string(i)}}), ns).ok());
    cv1::ListContainersRequest req;
    auto ctx = context(ns);
    auto reader = stub()->ListStream(ctx.get(), req);
    cv1::ListContainerMessage msg;
    std::vector<std::string> ids;
    while (reader->Read(&msg)) {
        ASSERT_TRUE(msg.has_container());
        ids.push_back(msg.container().id());
        EXPECT_TRUE(msg.container().has_spec());
        EXPECT_TRUE(msg.container().has_created_at());
    }
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_EQ(ids.size(), 40u);
    EXPECT_EQ(ids.front(), "s100");
    EXPECT_EQ(ids.back(), "s139");

    req.add_filters("labels.i==7");
    req.add_filters("id==s139");
    cv1::ListContainersResponse resp;
    ASSERT_TRUE(stub()->List(context(ns).get(), req, &resp).ok());
    ASSERT_EQ(resp.containers_size(), 2);
    EXPECT_EQ(resp.containers(0).id(), "s107");
    EXPECT_EQ(resp.containers(1).id(), "s139");

    // A bad filter ends the stream with InvalidArgument.
    cv1::ListContainersRequest bad;
    bad.add_filters("labels.\"unterminated");
    auto bctx = context(ns);
    auto breader = stub()->ListStream(bctx.get(), bad);
    EXPECT_FALSE(breader->Read(&msg));
    EXPECT_EQ(breader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContainersTest, CtrEventsSeesCreateUpdateDelete) {
    auto out = watch({"ctr", "--address", d().socket(), "events"}, 4, [&] {
        cv1::Container c = make("evt-c1", {{"k", "v"}});
        c.set_image("img:evt");
        EXPECT_TRUE(create(c, "evns").ok());
        cv1::Container u;
        u.set_id("evt-c1");
        (*u.mutable_labels())["k2"] = "v2";
        EXPECT_TRUE(update(u, {"labels.k2"}, "evns").ok());
        EXPECT_TRUE(remove("evt-c1", "evns").ok());
    });
    // ctr prints: <time> <namespace> <topic> <event as JSON>
    EXPECT_TRUE(contains(out.out,
                         "evns /containers/create {\"id\":\"evt-c1\",\"image\":\"img:evt\","
                         "\"runtime\":{\"name\":\"io.containerd.runc.v2\"}}"))
        << out.out << out.err;
    EXPECT_TRUE(contains(out.out,
                         "evns /containers/update {\"id\":\"evt-c1\",\"image\":\"img:evt\","
                         "\"labels\":{\"k\":\"v\",\"k2\":\"v2\"}}"))
        << out.out;
    EXPECT_TRUE(contains(out.out, "evns /containers/delete {\"id\":\"evt-c1\"}")) << out.out;
    // A refused change publishes nothing.
    auto quiet = watch({"ctr", "--address", d().socket(), "events"}, 3, [&] {
        EXPECT_FALSE(create(make(""), "evns").ok());
        EXPECT_FALSE(remove("evt-c1", "evns").ok());
    });
    EXPECT_FALSE(contains(quiet.out, "/containers/")) << quiet.out;
}

TEST_F(ContainersTest, NamespacesCannotSeeOrTouchEachOthersContainers) {
    ASSERT_TRUE(create(make("private", {{"owner", "a"}}), "team-a").ok());
    // Another namespace sees nothing, through the API, ctr and gantry.
    EXPECT_EQ(get("private", "team-b").error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(d().ctr({"c", "ls", "-q"}, "team-b").out, "");
    EXPECT_EQ(d().gantry({"c", "ls", "-q"}, "team-b").out, "");
    EXPECT_NE(d().ctr({"c", "info", "private"}, "team-b").exit_code, 0);
    // ... and cannot change or delete it.
    cv1::Container u = make("private", {{"owner", "b"}});
    EXPECT_EQ(update(u, {"labels"}, "team-b").error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(remove("private", "team-b").error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(d().ctr({"c", "rm", "private"}, "team-b").exit_code, 0);
    EXPECT_NE(d().gantry({"c", "rm", "private"}, "team-b").exit_code, 0);
    EXPECT_NE(d().gantry({"c", "label", "private", "owner=b"}, "team-b").exit_code, 0);
    // The same id in team-b is a different container.
    ASSERT_TRUE(create(make("private", {{"owner", "b"}}), "team-b").ok());
    cv1::GetContainerResponse got;
    ASSERT_TRUE(get("private", "team-a", &got).ok());
    EXPECT_EQ(got.container().labels().at("owner"), "a");
    ASSERT_TRUE(remove("private", "team-b").ok());
    ASSERT_TRUE(get("private", "team-a").ok());
    EXPECT_EQ(d().gantry({"c", "ls", "-q"}, "team-a").out, "private\n");
}

// protocol-facts §6.2: a container's snapshotter/snapshotKey is a GC root. The snapshot is made
// under a lease; once the lease is gone (with a synchronous collection) only the container keeps
// it, and deleting the container lets the next collection remove it.
TEST(ContainersGc, ContainerKeepsItsSnapshotUntilDeleted) {
    Daemon d;
    const auto ch = channel(d.socket());
    auto snapshots = sv1::Snapshots::NewStub(ch);
    auto leases = lv1::Leases::NewStub(ch);
    auto containers = cv1::Containers::NewStub(ch);
    const std::string ns = "gcns";
    const auto with_lease = [&](const std::string& lease) {
        auto ctx = context(ns);
        ctx->AddMetadata("containerd-lease", lease);
        return ctx;
    };
    // A full collection: deleting a lease with sync waits for one.
    const auto collect = [&] {
        lv1::CreateRequest create;
        create.set_id("gc-trigger");
        lv1::CreateResponse created;
        ASSERT_TRUE(leases->Create(context(ns).get(), create, &created).ok());
        lv1::DeleteRequest del;
        del.set_id("gc-trigger");
        del.set_sync(true);
        google::protobuf::Empty empty;
        ASSERT_TRUE(leases->Delete(context(ns).get(), del, &empty).ok());
    };

    lv1::CreateRequest lease;
    lease.set_id("hold");
    lv1::CreateResponse lease_resp;
    ASSERT_TRUE(leases->Create(context(ns).get(), lease, &lease_resp).ok());
    std::string snapshotter;
    for (const std::string sn : {"overlayfs", "native"}) {
        sv1::PrepareSnapshotRequest prep;
        prep.set_snapshotter(sn);
        prep.set_key("rootfs-key");
        sv1::PrepareSnapshotResponse mounts;
        auto st = snapshots->Prepare(with_lease("hold").get(), prep, &mounts);
        if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED)
            GTEST_SKIP() << "no Snapshots service in this build";
        if (st.ok()) {
            snapshotter = sn;
            break;
        }
    }
    if (snapshotter.empty()) GTEST_SKIP() << "neither overlayfs nor native snapshots available";
    const auto stat = [&] {
        sv1::StatSnapshotRequest req;
        req.set_snapshotter(snapshotter);
        req.set_key("rootfs-key");
        sv1::StatSnapshotResponse resp;
        return snapshots->Stat(context(ns).get(), req, &resp).error_code();
    };

    cv1::CreateContainerRequest req;
    *req.mutable_container() = make("gc-holder");
    req.mutable_container()->set_snapshotter(snapshotter);
    req.mutable_container()->set_snapshot_key("rootfs-key");
    cv1::CreateContainerResponse created;
    ASSERT_TRUE(containers->Create(context(ns).get(), req, &created).ok());
    lv1::DeleteRequest drop;
    drop.set_id("hold");
    drop.set_sync(true);
    google::protobuf::Empty empty;
    ASSERT_TRUE(leases->Delete(context(ns).get(), drop, &empty).ok());
    collect();
    EXPECT_EQ(stat(), grpc::StatusCode::OK) << "the container roots its snapshot";

    cv1::DeleteContainerRequest del;
    del.set_id("gc-holder");
    ASSERT_TRUE(containers->Delete(context(ns).get(), del, &empty).ok());
    collect();
    EXPECT_EQ(stat(), grpc::StatusCode::NOT_FOUND) << "nothing roots it any more";
}

// `rm` removes the container's rootfs snapshot first, as ctr does (NotFound is fine), unless
// --keep-snapshot is given.
TEST(ContainersRm, RemovesTheRootfsSnapshotUnlessKept) {
    Daemon d;
    const auto ch = channel(d.socket());
    auto snapshots = sv1::Snapshots::NewStub(ch);
    auto containers = cv1::Containers::NewStub(ch);
    std::string snapshotter;
    for (const std::string sn : {"overlayfs", "native"}) {
        for (const std::string key : {"k-ctr", "k-gantry", "k-kept"}) {
            sv1::PrepareSnapshotRequest prep;
            prep.set_snapshotter(sn);
            prep.set_key(key);
            // A GC root: only an explicit Remove deletes it, never the collector.
            (*prep.mutable_labels())["containerd.io/gc.root"] = "test";
            sv1::PrepareSnapshotResponse mounts;
            auto st = snapshots->Prepare(context().get(), prep, &mounts);
            if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED)
                GTEST_SKIP() << "no Snapshots service in this build";
            if (!st.ok()) break;
            snapshotter = sn;
        }
        if (!snapshotter.empty()) break;
    }
    if (snapshotter.empty()) GTEST_SKIP() << "neither overlayfs nor native snapshots available";
    for (const std::string id : {"c-ctr", "c-gantry", "c-kept", "c-gone"}) {
        cv1::CreateContainerRequest req;
        *req.mutable_container() = make(id);
        req.mutable_container()->set_snapshotter(snapshotter);
        req.mutable_container()->set_snapshot_key(id == "c-gone" ? "never-made"
                                                                 : "k" + id.substr(1));
        cv1::CreateContainerResponse created;
        ASSERT_TRUE(containers->Create(context().get(), req, &created).ok());
    }
    const auto stat = [&](const std::string& key) {
        sv1::StatSnapshotRequest req;
        req.set_snapshotter(snapshotter);
        req.set_key(key);
        sv1::StatSnapshotResponse resp;
        return snapshots->Stat(context().get(), req, &resp).error_code();
    };
    auto c = d.ctr({"c", "rm", "c-ctr"});
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(stat("k-ctr"), grpc::StatusCode::NOT_FOUND);
    auto g = d.gantry({"c", "rm", "c-gantry", "c-gone"});
    EXPECT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(stat("k-gantry"), grpc::StatusCode::NOT_FOUND);
    g = d.gantry({"c", "rm", "--keep-snapshot", "c-kept"});
    EXPECT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(stat("k-kept"), grpc::StatusCode::OK);
    EXPECT_EQ(d.gantry({"c", "ls", "-q"}).out, "");
}

TEST(ContainersRestart, RecordsSurviveARestartUnchanged) {
    Daemon d;
    auto stub = cv1::Containers::NewStub(channel(d.socket()));
    cv1::CreateContainerRequest req;
    *req.mutable_container() = make("durable", {{"k", "v"}});
    req.mutable_container()->set_snapshotter("overlayfs");
    req.mutable_container()->set_snapshot_key("durable");
    cv1::CreateContainerResponse created;
    ASSERT_TRUE(stub->Create(context().get(), req, &created).ok());
    auto before = d.ctr({"c", "info", "durable"});
    ASSERT_EQ(before.exit_code, 0) << before.err;
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    auto after = d.ctr({"c", "info", "durable"});
    ASSERT_EQ(after.exit_code, 0) << after.err;
    EXPECT_EQ(after.out, before.out);
}

} // namespace
} // namespace gantry::itest
