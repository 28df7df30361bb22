// Against the real Go implementations (containerd 1.6.20's containerd-shim-runc-v2):
//   - our client drives the shim's ttrpc server (start per protocol-facts §10.3, Connect, State,
//     Shutdown, then `delete`);
//   - the shim's Go ttrpc client forwards task events to our server (Events/Forward, §10.4),
//     for a real runc container built from busybox.
// Needs root, runc and the shim; skips without them. Everything started is killed and removed
// even when an assertion fails (ShimFixture's destructor).
#include "core/ttrpc/client.hpp"
#include "events/task.pb.h"
#include "runtime/task/v2/shim.pb.h"
#include "services/ttrpc/events/v1/events.pb.h"
#include "tests/unit/ttrpc/shim_proc.hpp"
#include "tests/unit/ttrpc/test_server.hpp"

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gantry::ttrpc {
namespace {

namespace fsys = std::filesystem;
namespace taskv2 = containerd::task::v2;
namespace tev = containerd::services::events::ttrpc::v1;
using namespace std::chrono_literals;

constexpr char kShim[] = "/usr/bin/containerd-shim-runc-v2";
constexpr char kContainerd[] = "/usr/bin/containerd";
constexpr char kBusybox[] = "/bin/busybox";
constexpr std::string_view kTask = "containerd.task.v2.Task";

class ShimFixture : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        for (const char* p : {kShim, kContainerd, kBusybox, "/usr/sbin/runc"})
            if (::access(p, X_OK) != 0) GTEST_SKIP() << p << " is not installed";
        ns = "gantry-ttrpc-" + std::to_string(::getpid());
        // `delete` finds the bundle as <dir of its cwd>/<id>, as in containerd's layout.
        bundle = events.dir() + "/" + id;
        fsys::create_directories(bundle);
        ::chmod(bundle.c_str(), 0700);
        // A containerd address that only names the shim's socket (sha256 of address/ns/id).
        containerd_address = events.dir() + "/containerd.sock";
        // containerd creates the `log` FIFO and keeps it open read-write (§10.2); the shim opens
        // it write-only and fails to start without it.
        std::string fifo = bundle + "/log";
        ASSERT_EQ(::mkfifo(fifo.c_str(), 0700), 0);
        log_fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        ASSERT_GE(log_fd, 0);
    }

    void TearDown() override {
        if (shim_pid > 0 && ::kill(shim_pid, 0) == 0) ::kill(shim_pid, SIGKILL);
        if (!ns.empty() && started) {
            (void)test::run_proc({"/usr/sbin/runc", "--root", runc_root(), "delete", "--force", id},
                                 "", {}, true, 20s);
            (void)shim_delete();
            std::error_code ec;
            fsys::remove_all(runc_root(), ec);
            if (!socket_path.empty()) ::unlink(socket_path.c_str());
        }
        if (log_fd >= 0) ::close(log_fd);
    }

    std::string runc_root() const { return "/run/containerd/runc/" + ns; }

    std::map<std::string, std::string> shim_env() const {
        return {{"TTRPC_ADDRESS", events.path()}, {"GOMAXPROCS", "2"}};
    }

    void write_spec(const std::vector<std::string>& args) {
        auto spec = test::run_proc({"/usr/sbin/runc", "spec", "--bundle", bundle}, "", {}, true);
        ASSERT_EQ(spec.exit_code, 0) << spec.out;
        nlohmann::json j;
        {
            std::ifstream in(bundle + "/config.json");
            j = nlohmann::json::parse(in);
        }
        j["process"]["terminal"] = false;
        j["process"]["args"] = args;
        j["root"]["path"] = "rootfs";
        j["root"]["readonly"] = false;
        // One level, so that runc's delete removes it from every hierarchy.
        j["linux"]["cgroupsPath"] = "/" + ns + "-" + id;
        std::ofstream(bundle + "/config.json") << j.dump();
        fsys::create_directories(bundle + "/rootfs/bin");
        fsys::copy_file(kBusybox, bundle + "/rootfs/bin/busybox");
    }

    // `start` (§10.3): prints only the address; the long-running shim stays behind.
    std::string start_shim() {
        started = true;
        auto r = test::run_proc({kShim, "-namespace", ns, "-address", containerd_address,
                                 "-publish-binary", kContainerd, "-id", id, "start"},
                                bundle, shim_env(), true, 30s);
        EXPECT_EQ(r.exit_code, 0) << r.out;
        std::string addr = r.out;
        while (!addr.empty() && std::isspace(static_cast<unsigned char>(addr.back())))
            addr.pop_back();
        EXPECT_EQ(addr.rfind("unix:///run/containerd/s/", 0), 0u) << addr;
        socket_path = addr.substr(std::string_view("unix://").size());
        return addr;
    }

    test::ProcOutput shim_delete() {
        return test::run_proc({kShim, "-namespace", ns, "-address", containerd_address,
                               "-publish-binary", kContainerd, "-id", id, "-bundle", bundle,
                               "delete"},
                              bundle, shim_env(), false, 30s);
    }

    std::unique_ptr<Client> dial(const std::string& addr) {
        auto c = Client::connect(addr);
        EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
        return c.ok() ? std::move(c).value() : nullptr;
    }

    CallOptions opts(std::chrono::seconds t = 10s) const {
        return CallOptions{}.with_namespace(ns).with_timeout(t);
    }

    // Our event sink: records every Forward (it also runs when the test only talks to the shim).
    struct Received {
        tev::Envelope envelope;
        std::string ns_header;
        bool had_deadline = false;
    };
    void serve_events() {
        events.server().register_method(
            "containerd.services.events.ttrpc.v1.Events", "Forward",
            [this](std::string_view payload, const CallContext& ctx) -> Result<std::string> {
                tev::ForwardRequest req;
                if (!req.ParseFromString(std::string(payload)))
                    return invalid_argument("bad ForwardRequest");
                std::lock_guard lk(mu);
                received.push_back(
                    {req.envelope(), std::string(ctx.ns().value_or("")), ctx.deadline.has_value()});
                cv.notify_all();
                return std::string(); // google.protobuf.Empty
            });
        events.start();
    }
    bool wait_events(std::size_t n, std::chrono::seconds t) {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, t, [&] { return received.size() >= n; });
    }

    test::TestServer events;
    std::string ns, id = "c1", bundle, containerd_address, socket_path;
    int log_fd = -1;
    pid_t shim_pid = 0;
    bool started = false;

    std::mutex mu;
    std::condition_variable cv;
    std::vector<Received> received;
};

TEST_F(ShimFixture, OurClientDrivesTheRealShim) {
    serve_events();
    write_spec({"/bin/busybox", "true"});
    std::string addr = start_shim();
    ASSERT_FALSE(socket_path.empty());
    auto c = dial(addr);
    ASSERT_TRUE(c);

    taskv2::ConnectRequest creq;
    creq.set_id(id);
    auto conn = c->call<taskv2::ConnectResponse>(kTask, "Connect", creq, opts());
    ASSERT_TRUE(conn.ok()) << conn.error().message();
    shim_pid = static_cast<pid_t>(conn->shim_pid());
    EXPECT_GT(shim_pid, 0);
    EXPECT_EQ(::kill(shim_pid, 0), 0) << "the shim pid it reports is not alive";
    EXPECT_EQ(conn->task_pid(), 0u); // no task created
    // The shim's working directory is the bundle, so its address file is there (§10.2).
    std::ifstream af(bundle + "/address");
    std::string written((std::istreambuf_iterator<char>(af)), {});
    EXPECT_EQ(written, addr);

    taskv2::StateRequest sreq;
    sreq.set_id("no-such-task");
    auto st = c->call<taskv2::StateResponse>(kTask, "State", sreq, opts());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::NotFound);
    EXPECT_NE(st.error().message().find("container not created"), std::string::npos)
        << st.error().message();

    // An unknown method: the Go server's own error text.
    auto un = c->call(kTask, "NoSuchMethod", "", opts());
    ASSERT_FALSE(un.ok());
    EXPECT_EQ(un.error().code(), Errc::NotImplemented);
    EXPECT_EQ(un.error().message(), "method NoSuchMethod");

    // Concurrency against the Go server: 50 calls in flight on the one connection.
    std::vector<std::thread> ts;
    std::atomic<int> good{0};
    for (int i = 0; i < 50; ++i)
        ts.emplace_back([&] {
            auto r = c->call<taskv2::ConnectResponse>(kTask, "Connect", creq, opts());
            if (r.ok() && static_cast<pid_t>(r->shim_pid()) == shim_pid) ++good;
        });
    for (auto& t : ts)
        t.join();
    EXPECT_EQ(good.load(), 50);

    // No container left: Shutdown ends the shim. The reply may or may not beat the close.
    taskv2::ShutdownRequest shut;
    shut.set_id(id);
    auto sd = c->call(kTask, "Shutdown", shut.SerializeAsString(), opts());
    if (!sd.ok()) {
        EXPECT_EQ(sd.error().code(), Errc::Unavailable) << sd.error().message();
    }
    for (int i = 0; i < 100 && ::kill(shim_pid, 0) == 0; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_NE(::kill(shim_pid, 0), 0) << "shim still running after Shutdown";
    // Any later call on the dead connection is Unavailable, never a hang.
    auto after = c->call(kTask, "Connect", creq.SerializeAsString(), opts(2s));
    ASSERT_FALSE(after.ok());
    EXPECT_EQ(after.error().code(), Errc::Unavailable);
    // `delete` needs the files Create writes (runtime, options.json); the next test runs it.
}

TEST_F(ShimFixture, RealShimForwardsTaskEventsToOurServer) {
    serve_events();
    write_spec({"/bin/busybox", "true"});
    std::string addr = start_shim();
    ASSERT_FALSE(socket_path.empty());
    auto c = dial(addr);
    ASSERT_TRUE(c);

    taskv2::CreateTaskRequest create;
    create.set_id(id);
    create.set_bundle(bundle);
    auto cr = c->call<taskv2::CreateTaskResponse>(kTask, "Create", create, opts(30s));
    ASSERT_TRUE(cr.ok()) << cr.error().message();
    EXPECT_GT(cr->pid(), 0u);

    taskv2::StartRequest start;
    start.set_id(id);
    auto sr = c->call<taskv2::StartResponse>(kTask, "Start", start, opts(30s));
    ASSERT_TRUE(sr.ok()) << sr.error().message();

    taskv2::WaitRequest wait;
    wait.set_id(id);
    auto wr = c->call<taskv2::WaitResponse>(kTask, "Wait", wait, opts(30s));
    ASSERT_TRUE(wr.ok()) << wr.error().message();
    EXPECT_EQ(wr->exit_status(), 0u);

    taskv2::DeleteRequest del;
    del.set_id(id);
    auto dr = c->call<taskv2::DeleteResponse>(kTask, "Delete", del, opts(30s));
    ASSERT_TRUE(dr.ok()) << dr.error().message();

    ASSERT_TRUE(wait_events(4, 20s)) << "events received: " << received.size();
    std::lock_guard lk(mu);
    std::vector<std::string> topics;
    for (const auto& r : received) {
        topics.push_back(r.envelope.topic());
        EXPECT_EQ(r.envelope.namespace_(), ns);
        EXPECT_EQ(r.ns_header, ns);  // sent with the ttrpc namespace header
        EXPECT_TRUE(r.had_deadline); // and a timeout (5 s in the shim)
        EXPECT_GT(r.envelope.timestamp().seconds(), 1600000000);
    }
    ASSERT_GE(topics.size(), 4u);
    EXPECT_EQ(topics[0], "/tasks/create");
    EXPECT_EQ(topics[1], "/tasks/start");
    EXPECT_EQ(topics[2], "/tasks/exit");
    EXPECT_EQ(topics[3], "/tasks/delete");
    const auto& any = received[0].envelope.event();
    EXPECT_EQ(any.type_url(), "containerd.events.TaskCreate");
    containerd::events::TaskCreate tc;
    ASSERT_TRUE(tc.ParseFromString(any.value()));
    EXPECT_EQ(tc.container_id(), id);
    EXPECT_EQ(tc.bundle(), bundle);
    EXPECT_EQ(tc.pid(), cr->pid());
    containerd::events::TaskExit te;
    EXPECT_EQ(received[2].envelope.event().type_url(), "containerd.events.TaskExit");
    ASSERT_TRUE(te.ParseFromString(received[2].envelope.event().value()));
    EXPECT_EQ(te.container_id(), id);
    EXPECT_EQ(te.exit_status(), 0u);

    taskv2::ConnectRequest creq;
    creq.set_id(id);
    auto conn = c->call<taskv2::ConnectResponse>(kTask, "Connect", creq, opts());
    ASSERT_TRUE(conn.ok());
    shim_pid = static_cast<pid_t>(conn->shim_pid());
    taskv2::ShutdownRequest shut;
    shut.set_id(id);
    (void)c->call(kTask, "Shutdown", shut.SerializeAsString(), opts());
    for (int i = 0; i < 100 && ::kill(shim_pid, 0) == 0; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_NE(::kill(shim_pid, 0), 0) << "shim still running after Shutdown";

    // The cleanup path containerd takes for a dead shim (§10.5): raw DeleteResponse on stdout.
    auto d = shim_delete();
    EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
    taskv2::DeleteResponse dresp;
    EXPECT_TRUE(dresp.ParseFromString(d.out));
    EXPECT_EQ(dresp.exit_status(), 137u); // 128 + SIGKILL
    EXPECT_GT(dresp.exited_at().seconds(), 1600000000);
}

} // namespace
} // namespace gantry::ttrpc
