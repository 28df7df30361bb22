// gantryd's ttrpc endpoint (<gRPC address>.ttrpc, protocol-facts §1.1, §10.4): events forwarded
// over ttrpc — by our client and by the real containerd-shim-runc-v2 — reach `ctr events`. Also
// the older publish path (`containerd publish`, which talks gRPC to the main socket).
#include "core/ttrpc/client.hpp"
#include "events/task.pb.h"
#include "runtime/task/v2/shim.pb.h"
#include "services/ttrpc/events/v1/events.pb.h"
#include "tests/integration/harness.hpp"
#include "tests/integration/shared_daemon.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <google/protobuf/any.pb.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gantry::itest {
namespace {

namespace tev = containerd::services::events::ttrpc::v1;
namespace taskv2 = containerd::task::v2;
using namespace std::chrono_literals;

constexpr char kForwardSvc[] = "containerd.services.events.ttrpc.v1.Events";
constexpr char kTask[] = "containerd.task.v2.Task";
constexpr char kShim[] = "/usr/bin/containerd-shim-runc-v2";

class TtrpcEventsTest : public SharedDaemonTest<TtrpcEventsTest> {
protected:
    static std::string tsock() { return d().socket() + ".ttrpc"; }

    std::unique_ptr<ttrpc::Client> dial(const std::string& addr) {
        auto c = ttrpc::Client::connect(addr);
        EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
        return c.ok() ? std::move(c).value() : nullptr;
    }

    // `ctr events` in the background, its stdout in a file. Under load ctr may take seconds to
    // subscribe, so start() forwards probe events until one shows up instead of sleeping.
    class CtrEvents {
    public:
        explicit CtrEvents(const std::string& socket) {
            out_ = dir_.path() + "/events.out";
            pid_ = ::fork();
            if (pid_ == 0) {
                int fd = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
                ::dup2(fd, 1);
                ::dup2(fd, 2);
                ::execlp("ctr", "ctr", "--address", socket.c_str(), "events", nullptr);
                ::_exit(127);
            }
        }
        ~CtrEvents() {
            if (pid_ > 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, nullptr, 0);
            }
        }
        std::string output() const {
            std::ifstream in(out_);
            return {std::istreambuf_iterator<char>(in), {}};
        }
        bool wait_for(const std::string& needle, std::chrono::seconds t,
                      const std::function<void()>& each = {}) const {
            auto end = std::chrono::steady_clock::now() + t;
            while (std::chrono::steady_clock::now() < end) {
                if (contains(output(), needle)) return true;
                if (each) each();
                std::this_thread::sleep_for(200ms);
            }
            return contains(output(), needle);
        }

    private:
        TempDir dir_;
        std::string out_;
        pid_t pid_ = -1;
    };

    std::unique_ptr<CtrEvents> subscribe() {
        auto ev = std::make_unique<CtrEvents>(d().socket());
        auto c = dial(tsock());
        if (!c) return ev;
        auto probe = task_exit("default", "/gantry/probe", "probe").SerializeAsString();
        bool up = ev->wait_for("/gantry/probe", 30s,
                               [&] { (void)c->call(kForwardSvc, "Forward", probe); });
        EXPECT_TRUE(up) << "ctr events never subscribed: " << ev->output();
        return ev;
    }

    static tev::ForwardRequest task_exit(const std::string& ns, const std::string& topic,
                                         const std::string& container) {
        containerd::events::TaskExit te;
        te.set_container_id(container);
        te.set_id(container);
        te.set_pid(4242);
        te.set_exit_status(7);
        te.mutable_exited_at()->set_seconds(1700000000);
        tev::ForwardRequest req;
        auto* env = req.mutable_envelope();
        env->mutable_timestamp()->set_seconds(1700000001);
        env->set_namespace_(ns);
        env->set_topic(topic);
        env->mutable_event()->set_type_url("containerd.events.TaskExit");
        env->mutable_event()->set_value(te.SerializeAsString());
        return req;
    }
};

TEST_F(TtrpcEventsTest, SocketBesideTheGrpcSocketMode0660) {
    struct stat st {};
    ASSERT_EQ(::stat(tsock().c_str(), &st), 0) << tsock();
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(TtrpcEventsTest, ForwardOverTtrpcReachesCtrEvents) {
    auto c = dial(tsock());
    ASSERT_TRUE(c);
    auto ev = subscribe();
    auto req = task_exit("default", "/tasks/exit", "ttrpc-c1");
    auto r = c->call(kForwardSvc, "Forward", req.SerializeAsString(),
                     ttrpc::CallOptions{}.with_namespace("default").with_timeout(5s));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, ""); // Empty
    EXPECT_TRUE(ev->wait_for("\"container_id\":\"ttrpc-c1\"", 15s)) << ev->output();
    std::string out = ev->output();
    EXPECT_TRUE(contains(out, "default /tasks/exit")) << out;
    EXPECT_TRUE(contains(out, "\"exit_status\":7")) << out;
}

TEST_F(TtrpcEventsTest, ForwardIsValidatedLikeGrpc) {
    auto c = dial(tsock());
    ASSERT_TRUE(c);
    auto bad_topic = task_exit("default", "no-slash", "x");
    auto r = c->call(kForwardSvc, "Forward", bad_topic.SerializeAsString());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument) << r.error().message();
    auto bad_ns = task_exit("bad ns!", "/tasks/exit", "x");
    r = c->call(kForwardSvc, "Forward", bad_ns.SerializeAsString());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument) << r.error().message();
    // The ttrpc socket serves only Events (§1.1).
    r = c->call(kForwardSvc, "Publish", "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::NotImplemented);
    r = c->call(kTask, "Connect", "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::NotImplemented);
    EXPECT_EQ(r.error().message(), "service containerd.task.v2.Task");
}

// The older path (§10.4): `containerd publish` reads an Any on stdin and calls gRPC
// Events.Publish on the main socket (it is a gRPC client, so it cannot use the .ttrpc socket).
TEST_F(TtrpcEventsTest, ContainerdPublishBinary) {
    TempDir tmp;
    google::protobuf::Any any;
    any.set_type_url("containerd.events.TaskExit");
    containerd::events::TaskExit te;
    te.set_container_id("published-c1");
    te.set_exit_status(3);
    any.set_value(te.SerializeAsString());
    std::ofstream(tmp.path() + "/event.bin", std::ios::binary) << any.SerializeAsString();
    auto ev = subscribe();
    Output pub = run({"sh", "-c",
                      "exec /usr/bin/containerd --address \"$0\" publish --topic /tasks/exit "
                      "--namespace default < \"$1\"",
                      d().socket(), tmp.path() + "/event.bin"});
    EXPECT_EQ(pub.exit_code, 0) << pub.out << pub.err;
    EXPECT_TRUE(ev->wait_for("\"container_id\":\"published-c1\"", 15s)) << ev->output();
    EXPECT_TRUE(contains(ev->output(), "default /tasks/exit")) << ev->output();
}

// A real shim started with TTRPC_ADDRESS=<gantryd.sock>.ttrpc (§10.3) forwards its task events
// through gantryd to `ctr events`. Everything it starts is removed in the destructor.
class RealShim {
public:
    RealShim(std::string ttrpc_address, std::string grpc_address)
        : ttrpc_(std::move(ttrpc_address)), grpc_(std::move(grpc_address)),
          ns_("gantry-it-" + std::to_string(::getpid())), bundle_(tmp_.path() + "/" + id_) {}
    ~RealShim() {
        if (shim_pid_ > 0 && ::kill(shim_pid_, 0) == 0) ::kill(shim_pid_, SIGKILL);
        if (started_) {
            (void)run({"runc", "--root", "/run/containerd/runc/" + ns_, "delete", "--force", id_});
            (void)shim("delete", true);
            std::error_code ec;
            std::filesystem::remove_all("/run/containerd/runc/" + ns_, ec);
            if (!socket_.empty()) ::unlink(socket_.c_str());
        }
        if (log_fd_ >= 0) ::close(log_fd_);
    }

    const std::string& ns() const { return ns_; }
    const std::string& id() const { return id_; }
    const std::string& bundle() const { return bundle_; }
    void set_shim_pid(pid_t p) { shim_pid_ = p; }

    // Bundle with busybox running `true`, the log FIFO, then `start`; returns the address.
    std::string start() {
        std::filesystem::create_directories(bundle_ + "/rootfs/bin");
        std::filesystem::copy_file("/bin/busybox", bundle_ + "/rootfs/bin/busybox");
        auto spec = run({"runc", "spec", "--bundle", bundle_});
        EXPECT_EQ(spec.exit_code, 0) << spec.err;
        nlohmann::json j;
        {
            std::ifstream in(bundle_ + "/config.json");
            j = nlohmann::json::parse(in);
        }
        j["process"]["terminal"] = false;
        j["process"]["args"] = {"/bin/busybox", "true"};
        j["linux"]["cgroupsPath"] = "/" + ns_ + "-" + id_;
        std::ofstream(bundle_ + "/config.json") << j.dump();
        std::string fifo = bundle_ + "/log";
        EXPECT_EQ(::mkfifo(fifo.c_str(), 0700), 0);
        log_fd_ = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        started_ = true;
        auto o = shim("start", false);
        EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
        std::string addr = o.out;
        while (!addr.empty() && std::isspace(static_cast<unsigned char>(addr.back())))
            addr.pop_back();
        if (addr.rfind("unix://", 0) == 0) socket_ = addr.substr(7);
        return addr;
    }

    Output shim(const std::string& action, bool with_bundle) {
        std::vector<std::string> argv = {"sh",
                                         "-c",
                                         "cd \"$0\" && exec \"$@\"",
                                         bundle_,
                                         kShim,
                                         "-namespace",
                                         ns_,
                                         "-address",
                                         grpc_,
                                         "-publish-binary",
                                         "/usr/bin/containerd",
                                         "-id",
                                         id_};
        if (with_bundle) argv.insert(argv.end(), {"-bundle", bundle_});
        argv.push_back(action);
        return run(argv, {{"TTRPC_ADDRESS", ttrpc_}, {"GOMAXPROCS", "2"}});
    }

private:
    TempDir tmp_;
    std::string ttrpc_, grpc_, ns_, id_ = "c1", bundle_, socket_;
    int log_fd_ = -1;
    pid_t shim_pid_ = 0;
    bool started_ = false;
};

TEST_F(TtrpcEventsTest, RealShimEventsReachCtrEvents) {
    if (::access(kShim, X_OK) != 0 || ::access("/bin/busybox", X_OK) != 0)
        GTEST_SKIP() << "containerd-shim-runc-v2 or busybox missing";
    RealShim shim(tsock(), d().socket());
    auto ev = subscribe();
    {
        std::string addr = shim.start();
        auto c = dial(addr);
        ASSERT_TRUE(c);
        auto opts = ttrpc::CallOptions{}.with_namespace(shim.ns()).with_timeout(30s);
        taskv2::ConnectRequest conn;
        conn.set_id(shim.id());
        auto cr = c->call<taskv2::ConnectResponse>(kTask, "Connect", conn, opts);
        ASSERT_TRUE(cr.ok()) << cr.error().message();
        shim.set_shim_pid(static_cast<pid_t>(cr->shim_pid()));
        taskv2::CreateTaskRequest create;
        create.set_id(shim.id());
        create.set_bundle(shim.bundle());
        auto created = c->call<taskv2::CreateTaskResponse>(kTask, "Create", create, opts);
        ASSERT_TRUE(created.ok()) << created.error().message();
        taskv2::StartRequest start;
        start.set_id(shim.id());
        ASSERT_TRUE(c->call<taskv2::StartResponse>(kTask, "Start", start, opts).ok());
        taskv2::WaitRequest wait;
        wait.set_id(shim.id());
        ASSERT_TRUE(c->call<taskv2::WaitResponse>(kTask, "Wait", wait, opts).ok());
        taskv2::DeleteRequest del;
        del.set_id(shim.id());
        ASSERT_TRUE(c->call<taskv2::DeleteResponse>(kTask, "Delete", del, opts).ok());
        taskv2::ShutdownRequest shut;
        shut.set_id(shim.id());
        (void)c->call(kTask, "Shutdown", shut.SerializeAsString(), opts);
    }
    // The shim sends its events asynchronously, in order.
    const std::string ns = shim.ns();
    EXPECT_TRUE(ev->wait_for(ns + " /tasks/delete", 20s)) << ev->output();
    std::string out = ev->output();
    for (const char* topic : {"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"})
        EXPECT_TRUE(contains(out, ns + " " + topic)) << topic << "\n" << out;
    EXPECT_TRUE(contains(out, "\"container_id\":\"c1\"")) << out;
}

} // namespace
} // namespace gantry::itest
