// Tasks.Checkpoint and restore (Tasks.Create with a checkpoint) through gantryd, once per shim:
// containerd's own (io.containerd.runc.v2) and Gantry's (io.containerd.gantry.v2).
//
// - With the real runc and CRIU, a checkpoint on this host fails: CRIU 3.17 cannot initialise on
//   kernel 6.18 ("vdso: Unexpected rt vDSO area bounds"). The test checks that the failure is
//   clear (non-OK code, a message that names CRIU and quotes its first error) and harmless (the
//   task keeps running, no temp dir is left, the content store and image list are unchanged).
// - So that the success path is tested at all, a wrapper script stands in for runc as the
//   runtime's binary: it passes every command to the real runc except `checkpoint` (it writes a
//   few files into --image-path, as CRIU would write its images) and `restore` (it records what
//   it was given, then creates and starts the container from the bundle with the real runc).
//   That checks the shim's flags, the service's packaging into the content store and the way
//   back: the unpacked tar reaches `restore` with the same files.
#include "core/archive/apply.hpp"
#include "core/archive/decompress.hpp"
#include "runtime/runc/options.pb.h"
#include "services/tasks/v1/tasks.grpc.pb.h"
#include "tests/integration/both_shims.hpp"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <google/protobuf/any.pb.h>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace gantry::itest {
namespace {

namespace fs = std::filesystem;
namespace tasks_v1 = containerd::services::tasks::v1;
using namespace std::chrono_literals;

constexpr std::string_view kCriuTar =
    "application/vnd.containerd.container.criu.checkpoint.criu.tar";
constexpr std::string_view kConfig =
    "application/vnd.containerd.container.checkpoint.config.v1+proto";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \n");
    const auto e = s.find_last_not_of(" \n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The stand-in for runc described at the top. `record` receives what checkpoint and restore saw.
std::string wrapper_script(const std::string& record) {
    return R"(#!/bin/sh
# CRIU cannot run on this kernel (6.18: "vdso: Unexpected rt vDSO area bounds"), so this stands in
# for runc: checkpoint and restore are faked, every other command is the real runc.
REC=)" + record +
           R"(
verb=
for a in "$@"; do
  case "$a" in checkpoint|restore) verb=$a; break;; esac
done
[ -z "$verb" ] && exec /usr/sbin/runc "$@"
global= ; log=
while [ "$1" != "$verb" ]; do
  [ "$1" = --log ] && log=$2
  global="$global $1"; shift
done
shift
echo "$*" > "$REC/$verb-args"
img= ; work= ; bundle= ; pidfile= ; console= ; leave=
while [ $# -gt 1 ]; do
  case "$1" in
    --image-path) img=$2; shift;;
    --work-path) work=$2; shift;;
    --bundle) bundle=$2; shift;;
    --pid-file) pidfile=$2; shift;;
    --console-socket) console=$2; shift;;
    --empty-ns|--manage-cgroups-mode|--parent-path|--page-server) shift;;
    --leave-running) leave=1;;
  esac
  shift
done
id=$1
if [ "$verb" = checkpoint ]; then
  mkdir -p "$img/sub"
  echo "pages of $id" > "$img/pages-1.img"
  echo inventory > "$img/sub/inventory.img"
  [ "$id" = doomed ] && : > "$img/fail-restore"
  [ -n "$work" ] && echo "(00.000001) dump finished" > "$work/dump.log"
  [ -z "$leave" ] && /usr/sbin/runc $global kill "$id" KILL
  exit 0
fi
if [ -e "$img/fail-restore" ]; then
  [ -n "$work" ] && echo "(00.000002) Error (criu/cr-restore.c:1): restore: pretend failure" > "$work/restore.log"
  # As runc reports an error: a JSON line in its --log file.
  echo '{"level":"error","msg":"criu failed: type RESTORE errno 0","time":"2026-01-01T00:00:00Z"}' >> "$log"
  exit 1
fi
(cd "$img" && find . | sort) > "$REC/restore-files"
cat "$img/pages-1.img" > "$REC/restore-pages"
set -- create --bundle "$bundle" --pid-file "$pidfile"
[ -n "$console" ] && set -- "$@" --console-socket "$console"
/usr/sbin/runc $global "$@" "$id" || exit 1
exec /usr/sbin/runc $global start "$id"
)";
}

class CheckpointTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        rootfs_ = d_.dir() + "/rootfs";
        for (const char* dir : {"bin", "proc", "dev", "sys", "tmp", "etc"})
            fs::create_directories(fs::path(rootfs_) / dir);
        fs::copy_file("/bin/busybox", fs::path(rootfs_) / "bin/busybox");
        for (const char* app : {"sh", "sleep", "true"})
            fs::create_symlink("busybox", fs::path(rootfs_) / "bin" / app);
        ns_ = "ck" + std::to_string(::getpid());
        stub_ = tasks_v1::Tasks::NewStub(channel(d_.socket()));
    }
    void TearDown() override {
        auto ls = ctr({"task", "ls", "-q"});
        std::istringstream in(ls.out);
        std::string id;
        while (std::getline(in, id)) {
            if (id.empty()) continue;
            ctr({"task", "kill", "-s", "SIGKILL", id});
            std::this_thread::sleep_for(200ms);
            ctr({"task", "rm", "-f", id});
        }
        auto cs = ctr({"containers", "ls", "-q"});
        std::istringstream cin(cs.out);
        while (std::getline(cin, id))
            if (!id.empty()) ctr({"containers", "rm", id});
    }
    bool gantry_shim() const { return GetParam() == "io.containerd.gantry.v2"; }
    Output ctr(std::vector<std::string> args) { return d_.ctr(std::move(args), ns_); }
    // How ctr names the runtime binary: --runc-binary for the runc shim, a runtime config file
    // (BinaryName) for the others.
    std::vector<std::string> runtime_flags(const std::string& binary) {
        if (binary.empty()) return {"--runtime", GetParam()};
        if (!gantry_shim()) return {"--runtime", GetParam(), "--runc-binary", binary};
        const std::string toml = d_.dir() + "/runtime.toml";
        std::ofstream(toml) << "BinaryName = \"" << binary << "\"\n";
        return {"--runtime", GetParam(), "--runtime-config-path", toml};
    }
    Output create_container(const std::string& id, const std::string& binary) {
        std::vector<std::string> args{"containers", "create"};
        for (auto& f : runtime_flags(binary))
            args.push_back(f);
        for (const auto& a :
             {std::string("--rootfs"), rootfs_, id, std::string("/bin/sleep"), std::string("1000")})
            args.push_back(a);
        return ctr(args);
    }
    Output run_detached(const std::string& id, const std::string& binary = "") {
        std::vector<std::string> args{"run", "-d"};
        for (auto& f : runtime_flags(binary))
            args.push_back(f);
        for (const char* a : {"--rootfs"})
            args.emplace_back(a);
        args.push_back(rootfs_);
        args.push_back(id);
        args.emplace_back("/bin/sleep");
        args.emplace_back("1000");
        return ctr(args);
    }
    std::string task_status(const std::string& id) {
        std::istringstream in(ctr({"task", "ls"}).out);
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string tid, pid, status;
            f >> tid >> pid >> status;
            if (tid == id) return status;
        }
        return "";
    }
    // The tasks service's directory for images in transit: empty unless a request is running.
    std::string transit() const { return d_.state() + "/io.containerd.grpc.v1.tasks"; }
    bool transit_empty() const {
        std::error_code ec;
        return !fs::exists(transit(), ec) || fs::is_empty(transit(), ec);
    }
    grpc::Status checkpoint(const std::string& id, const tasks_v1::CheckpointTaskRequest& base,
                            tasks_v1::CheckpointTaskResponse* resp, const std::string& ns = "",
                            const std::string& lease = "") {
        tasks_v1::CheckpointTaskRequest req = base;
        req.set_container_id(id);
        auto ctx = context(ns.empty() ? ns_ : ns, 60);
        if (!lease.empty()) ctx->AddMetadata("containerd-lease", lease);
        return stub_->Checkpoint(ctx.get(), req, resp);
    }

    Daemon d_;
    std::string rootfs_;
    std::string ns_;
    std::unique_ptr<tasks_v1::Tasks::Stub> stub_;
};

TEST_P(CheckpointTest, RealCriuFailsClearlyAndTheTaskKeepsRunning) {
    if (::access("/usr/sbin/criu", X_OK) != 0)
        GTEST_SKIP() << "criu is not installed (scripts/deps.sh --test installs it)";
    if (run({"criu", "check"}).exit_code == 0)
        GTEST_SKIP() << "CRIU works on this host: the failure this test expects does not happen";
    ASSERT_EQ(run_detached("live").exit_code, 0);
    const std::string content_before = ctr({"content", "ls", "-q"}).out;
    const std::string images_before = ctr({"images", "ls", "-q"}).out;

    // ctr pauses the task, asks for the checkpoint and resumes the task whatever the outcome.
    auto r = ctr({"task", "checkpoint", "live"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "CRIU failed")) << r.err;
    // CRIU's own first error, read from its log (the kernel's vDSO layout is what it trips on).
    EXPECT_TRUE(contains(r.err, "CRIU: ")) << r.err;
    EXPECT_EQ(task_status("live"), "RUNNING");

    tasks_v1::CheckpointTaskResponse resp;
    auto st = checkpoint("live", {}, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN) << st.error_message();
    EXPECT_TRUE(contains(st.error_message(), "checkpoint task live: CRIU failed"))
        << st.error_message();
    EXPECT_EQ(resp.descriptors_size(), 0);
    EXPECT_EQ(task_status("live"), "RUNNING");

    EXPECT_TRUE(transit_empty());
    EXPECT_EQ(ctr({"content", "ls", "-q"}).out, content_before);
    EXPECT_EQ(ctr({"images", "ls", "-q"}).out, images_before);
    // Still a working task.
    auto ex = ctr({"task", "exec", "--exec-id", "e1", "live", "/bin/true"});
    EXPECT_EQ(ex.exit_code, 0) << ex.err;
}

TEST_P(CheckpointTest, UnknownTasksAndBadRequests) {
    tasks_v1::CheckpointTaskResponse resp;
    auto st = checkpoint("nosuch", {}, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
    EXPECT_TRUE(contains(st.error_message(), "task nosuch not found")) << st.error_message();

    ASSERT_EQ(run_detached("mine").exit_code, 0);
    // Another namespace does not see it.
    st = checkpoint("mine", {}, &resp, ns_ + "x");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
    // Options that claim to be runc's but do not parse.
    tasks_v1::CheckpointTaskRequest bad;
    bad.mutable_options()->set_type_url("containerd.runc.v1.CheckpointOptions");
    bad.mutable_options()->set_value(std::string("\xff\xff", 2));
    st = checkpoint("mine", bad, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_EQ(task_status("mine"), "RUNNING");
    EXPECT_TRUE(transit_empty());

    // Create from a checkpoint: a media type that is not a CRIU tar, a blob that is not there.
    ASSERT_EQ(create_container("other", "").exit_code, 0);
    tasks_v1::CreateTaskRequest create;
    create.set_container_id("other");
    create.mutable_checkpoint()->set_media_type("application/vnd.oci.image.layer.v1.tar");
    create.mutable_checkpoint()->set_digest("sha256:" + std::string(64, 'a'));
    tasks_v1::CreateTaskResponse cresp;
    auto ctx = context(ns_);
    st = stub_->Create(ctx.get(), create, &cresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_TRUE(contains(st.error_message(), "unsupported checkpoint type")) << st.error_message();
    create.mutable_checkpoint()->set_media_type(std::string(kCriuTar));
    ctx = context(ns_);
    st = stub_->Create(ctx.get(), create, &cresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
    EXPECT_EQ(task_status("other"), "");
    EXPECT_TRUE(transit_empty());
}

TEST_P(CheckpointTest, CheckpointAndRestoreThroughAWrapperRuntime) {
    const std::string record = d_.dir() + "/record";
    fs::create_directories(record);
    const std::string wrapper = d_.dir() + "/runc-wrapper";
    std::ofstream(wrapper) << wrapper_script(record);
    fs::permissions(wrapper, fs::perms::owner_all);
    ASSERT_EQ(run_detached("src", wrapper).exit_code, 0);
    ASSERT_EQ(ctr({"leases", "create", "--id", "keep"}).exit_code, 0);

    // Every option reaches the runtime as runc's flag (the runc shim of containerd 1.6 passes
    // all but the cgroups mode).
    containerd::runc::v1::CheckpointOptions opts;
    opts.set_open_tcp(true);
    opts.set_file_locks(true);
    opts.set_external_unix_sockets(true);
    opts.add_empty_namespaces("network");
    opts.set_cgroups_mode("soft");
    tasks_v1::CheckpointTaskRequest req;
    req.mutable_options()->set_type_url("containerd.runc.v1.CheckpointOptions");
    req.mutable_options()->set_value(opts.SerializeAsString());
    tasks_v1::CheckpointTaskResponse resp;
    auto st = checkpoint("src", req, &resp, "", "keep");
    ASSERT_TRUE(st.ok()) << st.error_message();
    const std::string args = slurp(record + "/checkpoint-args");
    for (const char* flag :
         {"--image-path ", "--work-path ", "--leave-running", "--tcp-established", "--ext-unix-sk",
          "--file-locks", "--empty-ns network"})
        EXPECT_TRUE(contains(args, flag)) << flag << " missing in: " << args;
    if (gantry_shim()) EXPECT_TRUE(contains(args, "--manage-cgroups-mode soft")) << args;
    EXPECT_TRUE(args.ends_with(" src\n")) << args;
    EXPECT_EQ(task_status("src"), "RUNNING");
    EXPECT_TRUE(transit_empty());

    // The images as a tar blob, and the spec as a protobuf Any.
    ASSERT_EQ(resp.descriptors_size(), 2);
    const auto& tar = resp.descriptors(0);
    const auto& cfg = resp.descriptors(1);
    EXPECT_EQ(tar.media_type(), kCriuTar);
    EXPECT_EQ(cfg.media_type(), kConfig);
    EXPECT_TRUE(tar.digest().starts_with("sha256:")) << tar.digest();
    EXPECT_TRUE(tar.annotations().empty());
    auto blob = ctr({"content", "get", tar.digest()});
    ASSERT_EQ(blob.exit_code, 0) << blob.err;
    EXPECT_EQ(static_cast<std::int64_t>(blob.out.size()), tar.size());
    const std::string unpacked = d_.dir() + "/unpacked";
    fs::create_directories(unpacked);
    archive::SpanSource src(std::span<const char>(blob.out.data(), blob.out.size()));
    auto applied = archive::apply_layer(src, unpacked);
    ASSERT_TRUE(applied.ok()) << applied.error().message();
    EXPECT_EQ(slurp(unpacked + "/pages-1.img"), "pages of src\n");
    EXPECT_EQ(slurp(unpacked + "/sub/inventory.img"), "inventory\n");
    auto spec = ctr({"content", "get", cfg.digest()});
    ASSERT_EQ(spec.exit_code, 0) << spec.err;
    EXPECT_EQ(static_cast<std::int64_t>(spec.out.size()), cfg.size());
    google::protobuf::Any any;
    ASSERT_TRUE(any.ParseFromString(spec.out));
    EXPECT_EQ(any.type_url(), "types.containerd.io/opencontainers/runtime-spec/1/Spec");
    EXPECT_TRUE(contains(any.value(), "\"/bin/sleep\",\"1000\"")) << any.value().substr(0, 300);

    // The client's own image path: the images stay there and nothing is stored.
    const std::string content_before = ctr({"content", "ls", "-q"}).out;
    containerd::runc::v1::CheckpointOptions mine;
    mine.set_image_path(d_.dir() + "/mine");
    tasks_v1::CheckpointTaskRequest keep_req;
    keep_req.mutable_options()->set_type_url("containerd.runc.v1.CheckpointOptions");
    keep_req.mutable_options()->set_value(mine.SerializeAsString());
    tasks_v1::CheckpointTaskResponse keep_resp;
    st = checkpoint("src", keep_req, &keep_resp, "", "keep");
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(keep_resp.descriptors_size(), 0);
    EXPECT_EQ(slurp(d_.dir() + "/mine/pages-1.img"), "pages of src\n");
    EXPECT_EQ(ctr({"content", "ls", "-q"}).out, content_before);

    // ctr's own flow: pause, checkpoint, an image named containerd.io/checkpoint/src:<date>
    // whose index lists both blobs, resume.
    auto ck = ctr({"task", "checkpoint", "src"});
    ASSERT_EQ(ck.exit_code, 0) << ck.err;
    const std::string image = trim(ck.out);
    EXPECT_TRUE(image.starts_with("containerd.io/checkpoint/src:")) << ck.out;
    EXPECT_EQ(task_status("src"), "RUNNING");
    auto images = ctr({"images", "ls"});
    EXPECT_TRUE(contains(images.out, image)) << images.out;
    EXPECT_TRUE(transit_empty());

    // Restore into a new container from the blob: the shim's Create records the unpacked
    // images, Start restores from them.
    ASSERT_EQ(create_container("dst", "").exit_code, 0);
    // The wrapper as the runtime binary, in the task's own runc options (ctr's `containers
    // create` has no --runc-binary).
    containerd::runc::v1::Options ropts;
    ropts.set_binary_name(wrapper);
    tasks_v1::CreateTaskRequest create;
    create.mutable_options()->set_type_url("containerd.runc.v1.Options");
    create.mutable_options()->set_value(ropts.SerializeAsString());
    create.set_container_id("dst");
    create.mutable_checkpoint()->set_media_type(tar.media_type());
    create.mutable_checkpoint()->set_digest(tar.digest());
    create.mutable_checkpoint()->set_size(tar.size());
    tasks_v1::CreateTaskResponse cresp;
    auto ctx = context(ns_, 60);
    st = stub_->Create(ctx.get(), create, &cresp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(cresp.pid(), 0u); // nothing runs before Start restores it
    EXPECT_EQ(task_status("dst"), "CREATED");
    EXPECT_FALSE(transit_empty()); // the unpacked images wait for Start
    tasks_v1::StartRequest start;
    start.set_container_id("dst");
    tasks_v1::StartResponse sresp;
    ctx = context(ns_, 60);
    st = stub_->Start(ctx.get(), start, &sresp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_GT(sresp.pid(), 0u);
    EXPECT_EQ(task_status("dst"), "RUNNING");
    EXPECT_EQ(slurp(record + "/restore-pages"), "pages of src\n");
    EXPECT_EQ(slurp(record + "/restore-files"), ".\n./pages-1.img\n./sub\n./sub/inventory.img\n");
    const std::string rargs = slurp(record + "/restore-args");
    for (const char* flag : {"--detach", "--image-path ", "--bundle ", "--pid-file "})
        EXPECT_TRUE(contains(rargs, flag)) << flag << " missing in: " << rargs;
    EXPECT_TRUE(transit_empty()); // restored: the images are gone

    // A checkpoint with `exit` stops the task (the runtime kills it).
    opts.Clear();
    opts.set_exit(true);
    req.mutable_options()->set_value(opts.SerializeAsString());
    st = checkpoint("dst", req, &resp, "", "keep");
    ASSERT_TRUE(st.ok()) << st.error_message();
    for (int i = 0; i < 50 && task_status("dst") != "STOPPED"; ++i)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(task_status("dst"), "STOPPED");
    EXPECT_FALSE(contains(slurp(record + "/checkpoint-args"), "--leave-running"));

    // A task created from a checkpoint and deleted without a start leaves nothing behind.
    ASSERT_EQ(create_container("never", "").exit_code, 0);
    create.set_container_id("never");
    ctx = context(ns_, 60);
    st = stub_->Create(ctx.get(), create, &cresp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_FALSE(transit_empty());
    if (gantry_shim()) {
        // Gantry's shim answers the kill of a task that never ran with its exit (137).
        auto rm = ctr({"task", "rm", "-f", "never"});
        EXPECT_EQ(rm.exit_code, 0) << rm.err;
    } else {
        // The runc shim refuses that kill (runc has no such container) and ctr would wait for
        // an exit forever; a plain Delete works.
        tasks_v1::DeleteTaskRequest del;
        del.set_container_id("never");
        tasks_v1::DeleteResponse dresp;
        ctx = context(ns_, 60);
        st = stub_->Delete(ctx.get(), del, &dresp);
        EXPECT_TRUE(st.ok()) << st.error_message();
    }
    EXPECT_EQ(task_status("never"), "");
    EXPECT_TRUE(transit_empty());
    ctr({"leases", "rm", "keep"});
}

// A restore that fails at Start: a clear error (CRIU's own words with Gantry's shim), the task
// stays created, and a Delete removes it with its unpacked images.
TEST_P(CheckpointTest, FailedRestoreIsClearAndCleanedUp) {
    const std::string record = d_.dir() + "/record";
    fs::create_directories(record);
    const std::string wrapper = d_.dir() + "/runc-wrapper";
    std::ofstream(wrapper) << wrapper_script(record);
    fs::permissions(wrapper, fs::perms::owner_all);
    ASSERT_EQ(run_detached("doomed", wrapper).exit_code, 0);
    ASSERT_EQ(ctr({"leases", "create", "--id", "keep"}).exit_code, 0);
    tasks_v1::CheckpointTaskResponse resp;
    auto st = checkpoint("doomed", {}, &resp, "", "keep");
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.descriptors_size(), 2);

    ASSERT_EQ(create_container("back", "").exit_code, 0);
    containerd::runc::v1::Options ropts;
    ropts.set_binary_name(wrapper);
    tasks_v1::CreateTaskRequest create;
    create.set_container_id("back");
    create.mutable_options()->set_type_url("containerd.runc.v1.Options");
    create.mutable_options()->set_value(ropts.SerializeAsString());
    *create.mutable_checkpoint() = resp.descriptors(0);
    tasks_v1::CreateTaskResponse cresp;
    auto ctx = context(ns_, 60);
    st = stub_->Create(ctx.get(), create, &cresp);
    ASSERT_TRUE(st.ok()) << st.error_message();

    tasks_v1::StartRequest start;
    start.set_container_id("back");
    tasks_v1::StartResponse sresp;
    ctx = context(ns_, 60);
    st = stub_->Start(ctx.get(), start, &sresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN) << st.error_message();
    EXPECT_TRUE(contains(st.error_message(), "OCI runtime restore failed")) << st.error_message();
    EXPECT_TRUE(contains(st.error_message(), "criu failed: type RESTORE")) << st.error_message();
    if (gantry_shim()) {
        EXPECT_TRUE(contains(st.error_message(), "CRIU: restore: pretend failure"))
            << st.error_message();
        EXPECT_TRUE(contains(st.error_message(), "criu-restore.log")) << st.error_message();
    }
    EXPECT_EQ(task_status("back"), "CREATED");
    EXPECT_FALSE(transit_empty()); // kept for another Start

    tasks_v1::DeleteTaskRequest del;
    del.set_container_id("back");
    tasks_v1::DeleteResponse dresp;
    ctx = context(ns_, 60);
    st = stub_->Delete(ctx.get(), del, &dresp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(task_status("back"), "");
    EXPECT_TRUE(transit_empty());
    EXPECT_FALSE(fs::exists(d_.state() + "/io.containerd.runtime.v2.task/" + ns_ + "/back"));
    EXPECT_EQ(task_status("doomed"), "RUNNING");
    ctr({"leases", "rm", "keep"});
}

// ctr's container-level commands end to end: `containers checkpoint --task` (the index carries
// the image, the runtime and the task's blobs), then `containers restore --live`, which creates
// the container again and its task from the checkpoint blob. Gantry's shim only: `ctr containers
// create` can name a runtime binary through a runtime config file, which the runc shim of
// containerd 1.6 does not read.
TEST_P(CheckpointTest, CtrContainersCheckpointAndRestoreLive) {
    if (!gantry_shim()) GTEST_SKIP() << "needs a runtime config file (BinaryName)";
    const std::string record = d_.dir() + "/record";
    fs::create_directories(record);
    const std::string wrapper = d_.dir() + "/runc-wrapper";
    std::ofstream(wrapper) << wrapper_script(record);
    fs::permissions(wrapper, fs::perms::owner_all);
    const std::string archive = d_.dir() + "/image.tar";
    auto made = run({"python3", GANTRY_TEST_MKIMAGE, archive});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::string image = "docker.io/library/bartest:latest";
    auto imported = ctr({"images", "import", archive});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;

    auto flags = runtime_flags(wrapper);
    std::vector<std::string> create{"containers", "create"};
    create.insert(create.end(), flags.begin(), flags.end());
    for (const auto& a :
         {image, std::string("web"), std::string("/bin/sleep"), std::string("1000")})
        create.push_back(a);
    auto c = ctr(create);
    ASSERT_EQ(c.exit_code, 0) << c.err;
    auto started = ctr({"task", "start", "-d", "web"});
    ASSERT_EQ(started.exit_code, 0) << started.err;

    auto ck = ctr({"containers", "checkpoint", "--task", "web", "checkpoint/web:1"});
    ASSERT_EQ(ck.exit_code, 0) << ck.err;
    EXPECT_EQ(task_status("web"), "RUNNING");
    EXPECT_TRUE(transit_empty());

    ASSERT_EQ(ctr({"task", "kill", "-s", "SIGKILL", "web"}).exit_code, 0);
    for (int i = 0; i < 50 && task_status("web") != "STOPPED"; ++i)
        std::this_thread::sleep_for(100ms);
    ASSERT_EQ(ctr({"task", "rm", "web"}).exit_code, 0);
    ASSERT_EQ(ctr({"containers", "rm", "web"}).exit_code, 0);

    auto restored = ctr({"containers", "restore", "--live", "web", "checkpoint/web:1"});
    ASSERT_EQ(restored.exit_code, 0) << restored.err;
    EXPECT_EQ(task_status("web"), "RUNNING");
    EXPECT_EQ(slurp(record + "/restore-pages"), "pages of web\n");
    EXPECT_TRUE(transit_empty());
}

GANTRY_INSTANTIATE_FOR_BOTH_SHIMS(CheckpointTest);

} // namespace
} // namespace gantry::itest
