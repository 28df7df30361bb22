// The Diff service through a real daemon: layers written with the content API are applied onto
// real bind and overlay mounts; directory pairs are diffed into the content store and applied
// back. Raw gRPC, so every status code is checked.
#include "services/content/v1/content.grpc.pb.h"
#include "services/diff/v1/diff.grpc.pb.h"
#include "tests/integration/grpc_client.hpp"
#include "tests/integration/harness.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace gantry::itest {
namespace {

namespace cv1 = containerd::services::content::v1;
namespace dv1 = containerd::services::diff::v1;

constexpr const char* kTar = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

std::string sh(const std::string& cmd) {
    auto o = run({"sh", "-c", cmd});
    EXPECT_EQ(o.exit_code, 0) << cmd << ": " << o.err;
    return o.out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string sha256_of(const std::string& path) {
    return "sha256:" + sh("sha256sum '" + path + "'").substr(0, 64);
}

containerd::types::Mount bind_mount(const std::string& src, bool ro = false) {
    containerd::types::Mount m;
    m.set_type("bind");
    m.set_source(src);
    m.add_options("rbind");
    m.add_options(ro ? "ro" : "rw");
    return m;
}

class DiffServiceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // No startup GC pass: blobs here are GC roots anyway, but keep the pass out of timing.
        daemon_ = std::make_unique<Daemon>(Daemon::Options{
            .config_text = "version = 2\n[plugins.\"io.containerd.gc.v1.scheduler\"]\n"
                           "startup_delay = \"1h\"\n"});
    }
    static void TearDownTestSuite() { daemon_.reset(); }

    void SetUp() override {
        ASSERT_GT(daemon_->pid(), 0) << daemon_->log();
        work_ =
            daemon_->dir() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
        sh("mkdir -p '" + work_ + "'");
        diff_ = dv1::Diff::NewStub(channel(daemon_->socket()));
        content_ = cv1::Content::NewStub(channel(daemon_->socket()));
    }
    void TearDown() override { sh("rm -rf '" + work_ + "'"); }

    // Commits `data` as a blob in `ns` (a GC root); returns its digest.
    std::string put_blob(const std::string& data, const std::string& ns = "default") {
        std::string file = work_ + "/blob.tmp";
        std::ofstream(file, std::ios::binary) << data;
        std::string dg = sha256_of(file);
        auto ctx = context(ns, 30);
        auto stream = content_->Write(ctx.get());
        cv1::WriteContentRequest w;
        w.set_action(cv1::WRITE);
        w.set_ref("test-" + dg);
        w.set_total(static_cast<std::int64_t>(data.size()));
        w.set_expected(dg);
        w.set_data(data);
        cv1::WriteContentResponse resp;
        EXPECT_TRUE(stream->Write(w) && stream->Read(&resp));
        cv1::WriteContentRequest c;
        c.set_action(cv1::COMMIT);
        c.set_ref("test-" + dg);
        c.set_offset(static_cast<std::int64_t>(data.size()));
        c.set_total(static_cast<std::int64_t>(data.size()));
        c.set_expected(dg);
        (*c.mutable_labels())["containerd.io/gc.root"] = "test";
        EXPECT_TRUE(stream->Write(c) && stream->Read(&resp));
        stream->WritesDone();
        auto st = stream->Finish();
        EXPECT_TRUE(st.ok()) << st.error_message();
        return dg;
    }

    std::string get_blob(const std::string& digest) {
        cv1::ReadContentRequest req;
        req.set_digest(digest);
        auto ctx = context("default", 30);
        auto reader = content_->Read(ctx.get(), req);
        cv1::ReadContentResponse resp;
        std::string data;
        while (reader->Read(&resp))
            data += resp.data();
        EXPECT_TRUE(reader->Finish().ok());
        return data;
    }

    grpc::Status apply(const std::string& media_type, const std::string& digest, std::int64_t size,
                       const std::vector<containerd::types::Mount>& mounts,
                       dv1::ApplyResponse* resp, const std::string& ns = "default") {
        dv1::ApplyRequest req;
        req.mutable_diff()->set_media_type(media_type);
        req.mutable_diff()->set_digest(digest);
        req.mutable_diff()->set_size(size);
        for (const auto& m : mounts)
            *req.add_mounts() = m;
        auto ctx = context(ns, 60);
        return diff_->Apply(ctx.get(), req, resp);
    }

    grpc::Status diff(const std::vector<containerd::types::Mount>& left,
                      const std::vector<containerd::types::Mount>& right,
                      const std::string& media_type, dv1::DiffResponse* resp) {
        dv1::DiffRequest req;
        for (const auto& m : left)
            *req.add_left() = m;
        for (const auto& m : right)
            *req.add_right() = m;
        req.set_media_type(media_type);
        (*req.mutable_labels())["containerd.io/gc.root"] = "test";
        auto ctx = context("default", 60);
        return diff_->Diff(ctx.get(), req, resp);
    }

    // A small tree as a gzip layer; returns {blob bytes, diffID}.
    std::pair<std::string, std::string> make_layer() {
        std::string src = work_ + "/layer-src";
        sh("mkdir -p " + src + "/etc " + src + "/usr/bin && echo hello > " + src +
           "/etc/greeting && printf '#!/bin/sh\\n' > " + src + "/usr/bin/tool && chmod 4755 " +
           src + "/usr/bin/tool && ln -s ../etc/greeting " + src + "/usr/link && chown 12:34 " +
           src + "/etc/greeting");
        sh("tar --numeric-owner -C " + src + " -cf " + work_ + "/layer.tar etc usr");
        std::string diff_id = sha256_of(work_ + "/layer.tar");
        sh("gzip -kn " + work_ + "/layer.tar");
        return {slurp(work_ + "/layer.tar.gz"), diff_id};
    }

    static inline std::unique_ptr<Daemon> daemon_;
    std::string work_;
    std::unique_ptr<dv1::Diff::Stub> diff_;
    std::unique_ptr<cv1::Content::Stub> content_;
};

TEST_F(DiffServiceTest, ApplyGzipLayerOntoBindMount) {
    auto [blob, diff_id] = make_layer();
    std::string dg = put_blob(blob);
    std::string target = work_ + "/target";
    sh("mkdir -p " + target);
    dv1::ApplyResponse resp;
    auto st =
        apply(kTarGzip, dg, static_cast<std::int64_t>(blob.size()), {bind_mount(target)}, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.applied().media_type(), kTar);
    EXPECT_EQ(resp.applied().digest(), diff_id);
    EXPECT_EQ(resp.applied().size(), static_cast<std::int64_t>(slurp(work_ + "/layer.tar").size()));
    EXPECT_EQ(slurp(target + "/etc/greeting"), "hello\n");
    struct stat s {};
    ASSERT_EQ(::stat((target + "/etc/greeting").c_str(), &s), 0);
    EXPECT_EQ(s.st_uid, 12u);
    EXPECT_EQ(s.st_gid, 34u);
    ASSERT_EQ(::stat((target + "/usr/bin/tool").c_str(), &s), 0);
    EXPECT_EQ(s.st_mode & 07777, 04755u);
    EXPECT_EQ(slurp(target + "/usr/link"), "hello\n");
    // The temporary mount is gone again.
    EXPECT_FALSE(contains(slurp("/proc/self/mountinfo"), target));
    EXPECT_FALSE(contains(slurp("/proc/self/mountinfo"), daemon_->state()));
}

TEST_F(DiffServiceTest, ApplyOntoOverlayWritesTheUpperdirWithWhiteouts) {
    std::string lower = work_ + "/lower", upper = work_ + "/upper", wk = work_ + "/work";
    sh("mkdir -p " + lower + "/d " + upper + " " + wk + " && echo x > " + lower +
       "/gone && echo y > " + lower + "/d/old");
    std::string src = work_ + "/src";
    sh("mkdir -p " + src + "/d && touch " + src + "/.wh.gone " + src +
       "/d/.wh..wh..opq && echo n > " + src + "/d/new && tar -C " + src + " -cf " + work_ +
       "/l.tar .wh.gone d");
    std::string blob = slurp(work_ + "/l.tar");
    std::string dg = put_blob(blob);
    containerd::types::Mount m;
    m.set_type("overlay");
    m.set_source("overlay");
    m.add_options("workdir=" + wk);
    m.add_options("upperdir=" + upper);
    m.add_options("lowerdir=" + lower);
    dv1::ApplyResponse resp;
    auto st = apply(kTar, dg, static_cast<std::int64_t>(blob.size()), {m}, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.applied().digest(), dg); // uncompressed: diffID is the blob's digest
    struct stat s {};
    ASSERT_EQ(::lstat((upper + "/gone").c_str(), &s), 0);
    EXPECT_TRUE(S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0));
    EXPECT_EQ(sh("getfattr --only-values -n trusted.overlay.opaque " + upper +
                 "/d 2>/dev/null || "
                 "python3 -c \"import os;print(os.getxattr('" +
                 upper + "/d','trusted.overlay.opaque').decode(),end='')\""),
              "y");
    EXPECT_EQ(slurp(upper + "/d/new"), "n\n");
    EXPECT_EQ(slurp(lower + "/gone"), "x\n"); // lowers are never written
}

TEST_F(DiffServiceTest, DiffOfTwoDirectoriesIsCommittedWithItsDiffId) {
    std::string a = work_ + "/a", b = work_ + "/b";
    sh("mkdir -p " + a + "/keep " + a + "/drop && echo 1 > " + a + "/keep/f && echo 2 > " + a +
       "/drop/g && cp -a " + a + " " + b + " && rm -rf " + b + "/drop && echo new > " + b +
       "/added && echo changed > " + b + "/keep/f");
    for (const char* mt : {"", kTarGzip, kTarZstd, kTar}) {
        dv1::DiffResponse resp;
        auto st = diff({bind_mount(a, true)}, {bind_mount(b, true)}, mt, &resp);
        ASSERT_TRUE(st.ok()) << mt << ": " << st.error_message();
        EXPECT_EQ(resp.diff().media_type(), *mt ? mt : kTarGzip);
        std::string blob = get_blob(resp.diff().digest());
        EXPECT_EQ(static_cast<std::int64_t>(blob.size()), resp.diff().size());
        std::string file = work_ + "/out.blob";
        std::ofstream(file, std::ios::binary) << blob;
        EXPECT_EQ(sha256_of(file), resp.diff().digest());
        std::string dec = std::string(mt) == kTarZstd ? "zstd -dc"
                          : std::string(mt) == kTar   ? "cat"
                                                      : "gzip -dc";
        sh(dec + " " + file + " > " + work_ + "/out.tar");
        cv1::InfoRequest ireq;
        ireq.set_digest(resp.diff().digest());
        cv1::InfoResponse info;
        auto ctx = context();
        ASSERT_TRUE(content_->Info(ctx.get(), ireq, &info).ok());
        EXPECT_EQ(info.info().labels().at("containerd.io/uncompressed"),
                  sha256_of(work_ + "/out.tar"));
        EXPECT_EQ(info.info().labels().at("containerd.io/gc.root"), "test");
        auto names = sh("tar -tf " + work_ + "/out.tar");
        EXPECT_TRUE(contains(names, ".wh.drop\n")) << names;
        EXPECT_TRUE(contains(names, "added\n")) << names;
        EXPECT_TRUE(contains(names, "keep/f\n")) << names;
    }
    EXPECT_FALSE(contains(slurp("/proc/self/mountinfo"), daemon_->state()));
}

TEST_F(DiffServiceTest, OverlayDiffAppliesBackToTheSameTree) {
    std::string lower = work_ + "/lower", upper = work_ + "/upper", wk = work_ + "/work",
                merged = work_ + "/merged";
    sh("mkdir -p " + lower + "/dir " + upper + " " + wk + " " + merged + " && echo a > " + lower +
       "/dir/a && echo b > " + lower + "/b");
    sh("mount -t overlay overlay -o lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + wk +
       " " + merged + " && rm " + merged + "/b && echo c > " + merged + "/dir/c && umount " +
       merged);
    containerd::types::Mount m;
    m.set_type("overlay");
    m.set_source("overlay");
    m.add_options("workdir=" + wk);
    m.add_options("upperdir=" + upper);
    m.add_options("lowerdir=" + lower);
    dv1::DiffResponse resp;
    auto st = diff({bind_mount(lower, true)}, {m}, kTarGzip, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();

    std::string copy = work_ + "/copy";
    sh("cp -a " + lower + " " + copy);
    dv1::ApplyResponse applied;
    st = apply(kTarGzip, resp.diff().digest(), resp.diff().size(), {bind_mount(copy)}, &applied);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(sh("cd " + copy + " && find . | sort"), ".\n./dir\n./dir/a\n./dir/c\n");
    EXPECT_EQ(slurp(copy + "/dir/c"), "c\n");
}

TEST_F(DiffServiceTest, UnknownMediaTypesAreUnimplemented) {
    auto [blob, diff_id] = make_layer();
    std::string dg = put_blob(blob);
    std::string target = work_ + "/t";
    sh("mkdir -p " + target);
    dv1::ApplyResponse resp;
    for (const char* mt : {"application/vnd.example.unknown",
                           "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", ""}) {
        auto st =
            apply(mt, dg, static_cast<std::int64_t>(blob.size()), {bind_mount(target)}, &resp);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED)
            << mt << ": " << st.error_message();
    }
    dv1::DiffResponse dresp;
    auto st =
        diff({bind_mount(target, true)}, {bind_mount(target, true)}, "application/x-nope", &dresp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED) << st.error_message();
    EXPECT_EQ(sh("ls -A " + target), "");
}

TEST_F(DiffServiceTest, CorruptGzipFailsAndNothingIsReported) {
    auto [blob, diff_id] = make_layer();
    std::string corrupt = blob;
    for (std::size_t i = 20; i < corrupt.size() - 8; i += 7)
        corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
    std::string truncated = blob.substr(0, blob.size() / 2);
    for (const auto& bad : {corrupt, truncated}) {
        std::string dg = put_blob(bad);
        std::string target = work_ + "/t";
        sh("rm -rf " + target + " && mkdir -p " + target);
        dv1::ApplyResponse resp;
        auto st =
            apply(kTarGzip, dg, static_cast<std::int64_t>(bad.size()), {bind_mount(target)}, &resp);
        EXPECT_FALSE(st.ok());
        EXPECT_NE(st.error_code(), grpc::StatusCode::UNIMPLEMENTED) << st.error_message();
        EXPECT_TRUE(resp.applied().digest().empty());
    }
    EXPECT_FALSE(contains(slurp("/proc/self/mountinfo"), daemon_->state()));
}

TEST_F(DiffServiceTest, NamespacesAreRequiredAndIsolated) {
    auto [blob, diff_id] = make_layer();
    std::string dg = put_blob(blob, "other-ns");
    std::string target = work_ + "/t";
    sh("mkdir -p " + target);
    dv1::ApplyResponse resp;
    auto st = apply(kTarGzip, dg, static_cast<std::int64_t>(blob.size()), {bind_mount(target)},
                    &resp, "");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    st = apply(kTarGzip, dg, static_cast<std::int64_t>(blob.size()), {bind_mount(target)}, &resp,
               "default");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
    st = apply(kTarGzip, dg, static_cast<std::int64_t>(blob.size()), {bind_mount(target)}, &resp,
               "other-ns");
    EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(DiffServiceTest, CtrListsTheDifferAndTheServices) {
    auto o = daemon_->ctr({"plugins", "ls"});
    ASSERT_EQ(o.exit_code, 0) << o.err;
    auto line_of = [&](const std::string& type, const std::string& id) {
        std::istringstream in(o.out);
        for (std::string l; std::getline(in, l);)
            if (contains(l, type) && contains(l, " " + id + " ")) return l;
        return std::string();
    };
    EXPECT_TRUE(contains(line_of("io.containerd.differ.v1", "walking"), "ok")) << o.out;
    EXPECT_TRUE(contains(line_of("io.containerd.differ.v1", "walking"), "linux/")) << o.out;
    EXPECT_TRUE(contains(line_of("io.containerd.service.v1", "diff-service"), "ok")) << o.out;
    EXPECT_TRUE(contains(line_of("io.containerd.grpc.v1", "diff"), "ok")) << o.out;
}

// A daemon killed during an apply leaves a mounted temporary directory; the next start
// unmounts and removes it without touching what it showed.
TEST(DiffRestart, StaleTemporaryMountsAreCleanedAtStart) {
    Daemon d(Daemon::Options{.start_now = false});
    std::string shown = d.dir() + "/snapshot";
    std::string stale = d.state() + "/io.containerd.differ.v1.walking/mount-stale1";
    ASSERT_EQ(run({"sh", "-c",
                   "mkdir -p " + shown + " " + stale + " && echo keep > " + shown +
                       "/file && mount --bind " + shown + " " + stale})
                  .exit_code,
              0);
    ASSERT_TRUE(contains(slurp("/proc/self/mountinfo"), stale));
    ASSERT_TRUE(d.start()) << d.log();
    EXPECT_FALSE(contains(slurp("/proc/self/mountinfo"), stale));
    struct stat s {};
    EXPECT_NE(::stat(stale.c_str(), &s), 0);
    EXPECT_EQ(slurp(shown + "/file"), "keep\n");
}

} // namespace
} // namespace gantry::itest
