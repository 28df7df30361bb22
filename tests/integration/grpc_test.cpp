// The wire, seen by a raw gRPC client: codes, headers, persistence, health, metrics.
#include "health/health.grpc.pb.h"
#include "services/containers/v1/containers.grpc.pb.h"
#include "services/diff/v1/diff.grpc.pb.h"
#include "services/introspection/v1/introspection.grpc.pb.h"
#include "services/namespaces/v1/namespaces.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/tasks/v1/tasks.grpc.pb.h"
#include "services/version/v1/version.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <gtest/gtest.h>

namespace gantry::itest {
namespace {

namespace nsv1 = containerd::services::namespaces::v1;
namespace intro = containerd::services::introspection::v1;

class GrpcTest : public SharedDaemonTest<GrpcTest> {
protected:
    std::shared_ptr<grpc::Channel> ch() { return channel(daemon_->socket()); }
};

template <typename Stub, typename Req, typename Resp>
grpc::Status unary(Stub& stub, grpc::Status (Stub::*fn)(grpc::ClientContext*, const Req&, Resp*)) {
    Req req;
    Resp resp;
    auto ctx = context();
    return (stub.*fn)(ctx.get(), req, &resp);
}

TEST_F(GrpcTest, EveryUnimplementedServiceAnswersUnimplementedQuickly) {
    auto c = ch();
    auto start = std::chrono::steady_clock::now();
    {
        auto s = containerd::services::containers::v1::Containers::NewStub(c);
        EXPECT_EQ(unary(*s, &decltype(s)::element_type::List).error_code(),
                  grpc::StatusCode::UNIMPLEMENTED);
    }
    {
        auto s = containerd::services::diff::v1::Diff::NewStub(c);
        EXPECT_EQ(unary(*s, &decltype(s)::element_type::Apply).error_code(),
                  grpc::StatusCode::UNIMPLEMENTED);
    }
    {
        auto s = containerd::services::tasks::v1::Tasks::NewStub(c);
        EXPECT_EQ(unary(*s, &decltype(s)::element_type::List).error_code(),
                  grpc::StatusCode::UNIMPLEMENTED);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "no hangs";
}

TEST_F(GrpcTest, NamespaceHeaderRules) {
    auto s = nsv1::Namespaces::NewStub(ch());
    nsv1::CreateNamespaceRequest req;
    req.mutable_namespace_()->set_name("hdr-test");
    nsv1::CreateNamespaceResponse resp;

    auto none = context("");
    auto st = s->Create(none.get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(st.error_message(), "namespace is required: failed precondition");

    auto bad = context("not valid!");
    st = s->Create(bad.get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();

    // Nothing was written by the refused calls.
    nsv1::ListNamespacesRequest lreq;
    nsv1::ListNamespacesResponse lresp;
    auto lctx = context("");
    ASSERT_TRUE(s->List(lctx.get(), lreq, &lresp).ok()) << "List needs no header";
    for (const auto& n : lresp.namespaces())
        EXPECT_NE(n.name(), "hdr-test");

    // Get never says NotFound: an absent namespace has no labels.
    nsv1::GetNamespaceRequest greq;
    greq.set_name("does-not-exist");
    nsv1::GetNamespaceResponse gresp;
    auto gctx = context("");
    st = s->Get(gctx.get(), greq, &gresp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(gresp.namespace_().name(), "does-not-exist");
    EXPECT_TRUE(gresp.namespace_().labels().empty());
}

TEST_F(GrpcTest, NamespaceUpdateMaskRules) {
    auto s = nsv1::Namespaces::NewStub(ch());
    nsv1::CreateNamespaceRequest creq;
    creq.mutable_namespace_()->set_name("mask-test");
    (*creq.mutable_namespace_()->mutable_labels())["a"] = "1";
    (*creq.mutable_namespace_()->mutable_labels())["b"] = "2";
    nsv1::CreateNamespaceResponse cresp;
    auto ctx = context();
    ASSERT_TRUE(s->Create(ctx.get(), creq, &cresp).ok());

    nsv1::UpdateNamespaceRequest ureq;
    ureq.mutable_namespace_()->set_name("mask-test");
    (*ureq.mutable_namespace_()->mutable_labels())["a"] = "10";
    ureq.mutable_update_mask()->add_paths("labels.a");
    ureq.mutable_update_mask()->add_paths("labels.b"); // no value: removes b
    nsv1::UpdateNamespaceResponse uresp;
    auto uctx = context();
    auto st = s->Update(uctx.get(), ureq, &uresp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(uresp.namespace_().labels().at("a"), "10");
    EXPECT_EQ(uresp.namespace_().labels().count("b"), 0u);

    ureq.mutable_update_mask()->clear_paths();
    ureq.mutable_update_mask()->add_paths("labels");
    auto bctx = context();
    st = s->Update(bctx.get(), ureq, &uresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "bare labels path";

    nsv1::DeleteNamespaceRequest dreq;
    dreq.set_name("mask-test");
    google::protobuf::Empty e;
    auto dctx = context();
    EXPECT_TRUE(s->Delete(dctx.get(), dreq, &e).ok());
    auto d2 = context();
    EXPECT_EQ(s->Delete(d2.get(), dreq, &e).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcTest, IntrospectionFiltersAndBadFilter) {
    auto s = intro::Introspection::NewStub(ch());
    intro::PluginsRequest req;
    req.add_filters("type==io.containerd.grpc.v1,id==version");
    intro::PluginsResponse resp;
    auto ctx = context();
    ASSERT_TRUE(s->Plugins(ctx.get(), req, &resp).ok());
    ASSERT_EQ(resp.plugins_size(), 1);
    EXPECT_EQ(resp.plugins(0).id(), "version");
    EXPECT_FALSE(resp.plugins(0).has_init_err());

    req.clear_filters();
    req.add_filters("id==\"unterminated");
    auto bctx = context();
    auto st = s->Plugins(bctx.get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcTest, HealthServesEmptyServiceOnly) {
    auto s = grpc::health::v1::Health::NewStub(ch());
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    auto ctx = context("");
    ASSERT_TRUE(s->Check(ctx.get(), req, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    req.set_service("no.such.Service");
    auto ctx2 = context("");
    EXPECT_EQ(s->Check(ctx2.get(), req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(GrpcRestart, ServerUuidPersistsAcrossRestarts) {
    Daemon d;
    std::string first;
    {
        auto s = intro::Introspection::NewStub(channel(d.socket()));
        intro::ServerResponse resp;
        google::protobuf::Empty e;
        auto ctx = context();
        ASSERT_TRUE(s->Server(ctx.get(), e, &resp).ok());
        first = resp.uuid();
        EXPECT_EQ(first.size(), 36u);
        EXPECT_EQ(first[14], '4') << "UUID v4";
    }
    ASSERT_EQ(d.stop(), 0);
    ASSERT_TRUE(d.start()) << d.log();
    auto s = intro::Introspection::NewStub(channel(d.socket()));
    intro::ServerResponse resp;
    google::protobuf::Empty e;
    auto ctx = context();
    ASSERT_TRUE(s->Server(ctx.get(), e, &resp).ok());
    EXPECT_EQ(resp.uuid(), first);
}

TEST(GrpcMetrics, PrometheusEndpointCountsRequestsByCode) {
    Daemon d(Daemon::Options{.config_text = "version = 2\n[metrics]\naddress = \"127.0.0.1:0\"\n"});
    ASSERT_GT(d.pid(), 0) << d.log();
    auto s = intro::Introspection::NewStub(channel(d.socket()));
    intro::PluginsRequest req;
    req.add_filters("id==metrics");
    intro::PluginsResponse resp;
    auto ctx = context();
    ASSERT_TRUE(s->Plugins(ctx.get(), req, &resp).ok());
    ASSERT_EQ(resp.plugins_size(), 1);
    ASSERT_FALSE(resp.plugins(0).has_init_err()) << resp.plugins(0).init_err().message();
    std::string port = resp.plugins(0).exports().at("port");

    // One Unimplemented call, so the code label shows up.
    auto tasks = containerd::services::tasks::v1::Tasks::NewStub(channel(d.socket()));
    EXPECT_EQ(unary(*tasks, &decltype(tasks)::element_type::List).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);

    auto m = run({"curl", "-sf", "http://127.0.0.1:" + port + "/metrics"});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_TRUE(contains(m.out, "grpc_server_handled_total{grpc_code=\"Unimplemented\","
                                "grpc_method=\"List\",grpc_service="
                                "\"containerd.services.tasks.v1.Tasks\"} 1"))
        << m.out.substr(0, 3000);
    EXPECT_TRUE(contains(m.out, "grpc_server_handling_seconds_bucket{")) << "latency histogram";
    EXPECT_TRUE(contains(m.out, "gantry_plugin_status{id=\"metrics\",status=\"ok\"")) << m.out;
    EXPECT_TRUE(contains(m.out, "process_resident_memory_bytes ")) << m.out;
}

} // namespace
} // namespace gantry::itest
