// The local backend: layout, verification at commit, resume, locking, streaming, GC listing.
#include "plugins/content/local_store.hpp"
#include "tests/unit/content/test_util.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

namespace gantry::content {
namespace {

using testing::sha256;
using testing::slurp;
using testing::TempDir;

class LocalStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = LocalStore::open(dir_.path() + "/content");
        ASSERT_TRUE(s.ok()) << s.error().message();
        store_ = *s;
    }
    std::unique_ptr<Writer> open(const std::string& ref, std::int64_t total = 0,
                                 const std::string& expected = "") {
        auto w = store_->writer(ref, total, expected);
        EXPECT_TRUE(w.ok()) << w.error().message();
        return w.ok() ? std::move(w).value() : nullptr;
    }

    TempDir dir_;
    std::shared_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, WriteCommitVerifyLayout) {
    const std::string data = "hello content";
    auto w = open("ns/1/ref-a", static_cast<std::int64_t>(data.size()));
    ASSERT_TRUE(w);
    const std::string ingest = store_->ingest_path("ns/1/ref-a");
    EXPECT_EQ(slurp(ingest + "/ref"), "ns/1/ref-a");
    EXPECT_EQ(slurp(ingest + "/total"), std::to_string(data.size()));
    EXPECT_NE(slurp(ingest + "/startedat").find('T'), std::string::npos);
    ASSERT_TRUE(w->write(data).ok());
    EXPECT_EQ(w->digest(), sha256(data));
    auto st = w->status();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->offset, static_cast<std::int64_t>(data.size()));
    ASSERT_TRUE(w->commit(static_cast<std::int64_t>(data.size()), sha256(data), {}).ok());
    w.reset();

    auto path = store_->blob_path(sha256(data));
    ASSERT_TRUE(path.ok());
    EXPECT_EQ(slurp(*path), data);
    struct stat sb {};
    ASSERT_EQ(::stat(path->c_str(), &sb), 0);
    EXPECT_EQ(sb.st_mode & 0777, 0444u);
    EXPECT_FALSE(std::filesystem::exists(ingest));
    auto info = store_->info(sha256(data));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->size, static_cast<std::int64_t>(data.size()));
    // Listed for GC, and committing the same bytes again is AlreadyExists.
    auto blobs = store_->list_blobs();
    ASSERT_TRUE(blobs.ok());
    ASSERT_EQ(blobs->size(), 1u);
    EXPECT_EQ(blobs->front(), sha256(data));
    auto again = store_->writer("ns/1/ref-b", 0, sha256(data));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), Errc::AlreadyExists);
    auto w2 = open("ns/1/ref-c");
    ASSERT_TRUE(w2->write(data).ok());
    auto c = w2->commit(0, "", {});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), Errc::AlreadyExists);
}

TEST_F(LocalStoreTest, DigestMismatchCommitsNothing) {
    auto w = open("r");
    ASSERT_TRUE(w->write("abc").ok());
    auto c = w->commit(3, sha256("abd"), {});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), Errc::FailedPrecondition);
    EXPECT_NE(c.error().message().find("unexpected commit digest"), std::string::npos);
    EXPECT_TRUE(store_->list_blobs()->empty());
    EXPECT_FALSE(store_->info(sha256("abc")).ok());
}

TEST_F(LocalStoreTest, SizeMismatchCommitsNothing) {
    auto w = open("r");
    ASSERT_TRUE(w->write("abc").ok());
    auto c = w->commit(4, "", {});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), Errc::FailedPrecondition);
    EXPECT_NE(c.error().message().find("unexpected commit size 3, expected 4"), std::string::npos);
    EXPECT_TRUE(store_->list_blobs()->empty());
}

TEST_F(LocalStoreTest, ResumeAfterReopenRehashes) {
    const std::string a = "first half|", b = "second half";
    {
        auto w = open("resume", static_cast<std::int64_t>(a.size() + b.size()));
        ASSERT_TRUE(w->write(a).ok());
    } // closed without commit: the ingest stays
    auto st = store_->status("resume");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->offset, static_cast<std::int64_t>(a.size()));
    EXPECT_EQ(st->total, static_cast<std::int64_t>(a.size() + b.size()));
    // A fresh store object (as after a restart) resumes from the data on disk.
    auto reopened = LocalStore::open(store_->root());
    ASSERT_TRUE(reopened.ok());
    auto w = (*reopened)->writer("resume", 0, "");
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->status()->offset, static_cast<std::int64_t>(a.size()));
    EXPECT_EQ((*w)->digest(), sha256(a));
    ASSERT_TRUE((*w)->write(b).ok());
    ASSERT_TRUE(
        (*w)->commit(static_cast<std::int64_t>(a.size() + b.size()), sha256(a + b), {}).ok());
    EXPECT_TRUE((*reopened)->info(sha256(a + b)).ok());
}

TEST_F(LocalStoreTest, CorruptIngestIsRecreated) {
    {
        auto w = open("c");
        ASSERT_TRUE(w->write("junk").ok());
    }
    std::filesystem::remove(store_->ingest_path("c") + "/startedat");
    auto w = open("c");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->status()->offset, 0);
    ASSERT_TRUE(w->write("ok").ok());
    ASSERT_TRUE(w->commit(2, sha256("ok"), {}).ok());
}

TEST_F(LocalStoreTest, SecondWriterOnRefIsUnavailable) {
    auto w = open("locked");
    auto second = store_->writer("locked", 0, "");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), Errc::Unavailable);
    EXPECT_NE(second.error().message().find("ref locked locked for "), std::string::npos);
    w.reset(); // releases the lock
    auto third = store_->writer("locked", 0, "");
    EXPECT_TRUE(third.ok());
}

TEST_F(LocalStoreTest, TruncateRestarts) {
    auto w = open("t");
    ASSERT_TRUE(w->write("garbage").ok());
    ASSERT_TRUE(w->truncate(0).ok());
    EXPECT_EQ(w->status()->offset, 0);
    ASSERT_TRUE(w->write("good").ok());
    ASSERT_TRUE(w->commit(4, sha256("good"), {}).ok());
    EXPECT_FALSE(w->truncate(1).ok());
}

TEST_F(LocalStoreTest, ReaderOffsets) {
    auto w = open("rd");
    ASSERT_TRUE(w->write("0123456789").ok());
    ASSERT_TRUE(w->commit(10, "", {}).ok());
    auto r = store_->reader(sha256("0123456789"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->size(), 10);
    char buf[4];
    auto n = (*r)->read_at(8, buf);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 2u);
    EXPECT_EQ(std::string(buf, 2), "89");
    EXPECT_EQ(*(*r)->read_at(10, buf), 0u);
    EXPECT_FALSE((*r)->read_at(-1, buf).ok());
    auto missing = store_->reader(sha256("nope"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), Errc::NotFound);
}

TEST_F(LocalStoreTest, MalformedDigestsAreInvalidArgument) {
    for (const char* d : {"sha256:abc", "md5:0123",
                          "sha256:" // upper-case hex is refused
                          "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"}) {
        auto i = store_->info(d);
        ASSERT_FALSE(i.ok()) << d;
        EXPECT_EQ(i.error().code(), Errc::InvalidArgument) << d;
    }
    auto w = store_->writer("x", 0, "sha256:zz");
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(store_->writer("", 0, "").error().code(), Errc::InvalidArgument);
}

TEST_F(LocalStoreTest, Sha512BlobsAreListedAndRead) {
    const std::string hex(128, 'a');
    const std::string d = "sha512:" + hex;
    std::filesystem::create_directories(store_->root() + "/blobs/sha512");
    std::ofstream(store_->root() + "/blobs/sha512/" + hex) << "x";
    EXPECT_EQ(store_->info(d)->size, 1);
    auto blobs = store_->list_blobs();
    ASSERT_EQ(blobs->size(), 1u);
    EXPECT_EQ(blobs->front(), d);
    EXPECT_TRUE(store_->delete_blob(d).ok());
    EXPECT_EQ(store_->delete_blob(d).error().code(), Errc::NotFound);
}

TEST_F(LocalStoreTest, IngestsListedAndAborted) {
    { auto w = open("ns/1/a"); }
    { auto w = open("ns/1/b"); }
    auto refs = store_->list_ingests();
    ASSERT_TRUE(refs.ok());
    std::sort(refs->begin(), refs->end());
    EXPECT_EQ(*refs, (std::vector<std::string>{"ns/1/a", "ns/1/b"}));
    EXPECT_TRUE(store_->abort_ingest("ns/1/a").ok());
    EXPECT_EQ(store_->abort_ingest("ns/1/a").error().code(), Errc::NotFound);
    EXPECT_EQ(store_->status("ns/1/a").error().code(), Errc::NotFound);
    EXPECT_EQ(store_->list_ingests()->size(), 1u);
}

long vm_hwm_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

TEST_F(LocalStoreTest, LargeBlobStreamsWithBoundedMemory) {
    constexpr std::int64_t kSize = 64 << 20;
    std::string chunk(1 << 20, '\0');
    for (std::size_t i = 0; i < chunk.size(); ++i)
        chunk[i] = static_cast<char>(i * 31 + 7);
    const long before = vm_hwm_kib();
    std::string expected;
    {
        auto w = open("big", kSize);
        for (std::int64_t off = 0; off < kSize; off += static_cast<std::int64_t>(chunk.size())) {
            chunk[0] = static_cast<char>(off >> 20); // every chunk differs
            ASSERT_TRUE(w->write(chunk).ok());
        }
        expected = w->digest();
        ASSERT_TRUE(w->commit(kSize, expected, {}).ok());
    }
    auto r = store_->reader(expected);
    ASSERT_TRUE(r.ok());
    std::vector<char> buf(1 << 20);
    std::int64_t off = 0;
    while (off < kSize) {
        auto n = (*r)->read_at(off, buf);
        ASSERT_TRUE(n.ok());
        ASSERT_EQ(static_cast<unsigned char>(buf[0]), static_cast<unsigned char>(off >> 20));
        off += static_cast<std::int64_t>(*n);
    }
    EXPECT_EQ(off, kSize);
    // Resuming a 64 MiB ingest re-hashes it through a fixed buffer too.
    {
        auto w = open("big2", kSize);
        for (int i = 0; i < 64; ++i)
            ASSERT_TRUE(w->write(chunk).ok());
    }
    auto w = open("big2");
    EXPECT_EQ(w->status()->offset, kSize);
    const long after = vm_hwm_kib();
    ASSERT_GT(before, 0);
    EXPECT_LT(after - before, 16 * 1024) << "peak RSS grew by " << (after - before) << " KiB";
}

} // namespace
} // namespace gantry::content
