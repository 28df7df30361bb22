// Docker on gantryd: Debian's dockerd 20.10 started with --containerd pointing at a real gantryd
// (and no iptables or bridge), `docker load` of the test image, then `docker run --rm --network
// none`: dockerd creates the container and its task through gantryd's Containers and Tasks
// services with containerd-shim-runc-v2, and learns of the exit from the /tasks/exit event the
// shim forwards to gantryd's ttrpc endpoint.
#include "tests/integration/harness.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <thread>

namespace gantry::itest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Repacks mkimage.py's OCI archive the way `docker save` lays it out.
constexpr const char* kToDockerSave = R"(import json,tarfile,io,sys
src=tarfile.open(sys.argv[1]);f={m.name:src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
idx=json.loads(f['index.json']);man=json.loads(f['blobs/sha256/'+idx['manifests'][0]['digest'][7:]])
b=lambda d:f['blobs/sha256/'+d[7:]]
out=tarfile.open(sys.argv[2],'w')
def add(p,data):
  ti=tarfile.TarInfo(p);ti.size=len(data);out.addfile(ti,io.BytesIO(data))
cfg=man['config']['digest'][7:]+'.json';add(cfg,b(man['config']['digest']))
layers=[]
for i,l in enumerate(man['layers']):
  p='l%d/layer.tar'%i;add(p,b(l['digest']));layers.append(p)
add('manifest.json',json.dumps([{'Config':cfg,'RepoTags':['bartest:v1'],'Layers':layers}]).encode())
)";

class DockerTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists("/usr/sbin/dockerd")) GTEST_SKIP() << "dockerd (docker.io) not installed";
        base_ = d_.dir() + "/docker";
        fs::create_directories(base_);
        sock_ = base_ + "/docker.sock";
        dockerd_ = ::fork();
        if (dockerd_ == 0) {
            ::setpgid(0, 0);
            const std::string log = base_ + "/dockerd.log";
            std::freopen(log.c_str(), "w", stdout);
            std::freopen(log.c_str(), "a", stderr);
            ::execl("/usr/sbin/dockerd", "dockerd", ("--containerd=" + d_.socket()).c_str(),
                    "--iptables=false", "--ip-masq=false", "--bridge=none",
                    ("--data-root=" + base_ + "/data").c_str(),
                    ("--exec-root=" + base_ + "/exec").c_str(), ("-H=unix://" + sock_).c_str(),
                    ("--pidfile=" + base_ + "/docker.pid").c_str(), nullptr);
            ::_exit(127);
        }
        ASSERT_GT(dockerd_, 0);
        bool up = false;
        for (int i = 0; i < 300 && !up; ++i) {
            std::this_thread::sleep_for(100ms);
            up = docker({"version"}).exit_code == 0;
        }
        ASSERT_TRUE(up) << "dockerd did not come up: " << log();
    }
    void TearDown() override {
        if (dockerd_ > 0) {
            ::kill(dockerd_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 150 && ::waitpid(dockerd_, &status, WNOHANG) == 0; ++i)
                std::this_thread::sleep_for(100ms);
            ::kill(-dockerd_, SIGKILL);
            ::waitpid(dockerd_, &status, 0);
        }
    }
    Output docker(std::vector<std::string> args, std::chrono::seconds timeout = 60s) {
        std::vector<std::string> argv{"/usr/bin/docker", "-H", "unix://" + sock_};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, {}, timeout);
    }
    std::string log() const {
        std::ifstream in(base_ + "/dockerd.log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    Daemon d_;
    std::string base_, sock_;
    pid_t dockerd_ = -1;
};

TEST_F(DockerTest, DockerRunsContainersThroughGantryd) {
    auto v = docker({"version", "--format",
                     "{{range .Server.Components}}{{.Name}} "
                     "{{.Version}};{{end}}"});
    EXPECT_TRUE(contains(v.out, "containerd 1.6.20+gantry")) << v.out << v.err;

    const std::string oci = d_.dir() + "/oci.tar", save = d_.dir() + "/save.tar";
    ASSERT_EQ(run({"python3", GANTRY_TEST_MKIMAGE, oci}).exit_code, 0);
    auto conv = run({"python3", "-c", kToDockerSave, oci, save});
    ASSERT_EQ(conv.exit_code, 0) << conv.err;
    auto load = docker({"load", "-i", save});
    ASSERT_EQ(load.exit_code, 0) << load.err;

    auto ok = docker({"run", "--rm", "--network", "none", "bartest:v1", "echo", "ok"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err << log();
    EXPECT_EQ(ok.out, "ok\n");
    auto code = docker({"run", "--rm", "--network", "none", "bartest:v1", "sh", "-c", "exit 5"});
    EXPECT_EQ(code.exit_code, 5) << code.err;

    // Docker's containers are gantryd's, in the moby namespace, and gone after --rm.
    auto ls = d_.ctr({"containers", "ls", "-q"}, "moby");
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_EQ(ls.out, "");
    auto detached = docker({"run", "-d", "--network", "none", "bartest:v1", "sleep", "100"});
    ASSERT_EQ(detached.exit_code, 0) << detached.err;
    const std::string id = detached.out.substr(0, detached.out.find('\n'));
    auto tasks = d_.ctr({"task", "ls"}, "moby");
    EXPECT_TRUE(contains(tasks.out, id)) << tasks.out;
    EXPECT_TRUE(contains(tasks.out, "RUNNING")) << tasks.out;
    auto rm = docker({"rm", "-f", id});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_EQ(d_.ctr({"task", "ls", "-q"}, "moby").out, "");
}

} // namespace
} // namespace gantry::itest
