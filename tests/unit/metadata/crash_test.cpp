// Crash safety: a writer process SIGKILLed at a random moment leaves every committed transaction
// whole and no trace of the one in flight, and the environment opens cleanly afterwards.
#include "core/metadata/buckets.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/value_encoding.hpp"
#include "temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <random>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gantry::metadata {
namespace {

using testing::TempDir;

const BucketPath kCrash = BucketPath().child("crash");
const BucketPath kItems = kCrash.child("items");
constexpr int kFillPerTxn = 50;

BucketPath fill_bucket(std::int64_t i) {
    return kCrash.child("fill").child(std::to_string(i));
}

Result<std::int64_t> read_counter(const Txn& txn, std::string_view name) {
    GANTRY_ASSIGN_OR_RETURN(auto v, get_value(txn, kCrash, name));
    if (!v) return std::int64_t{0};
    return decode_varint(*v);
}

// The child: commit transaction after transaction, each advancing the counter, its copy, one item
// and a batch of filler keys together; report each commit on the pipe. Never returns.
[[noreturn]] void writer(const std::filesystem::path& root, int report_fd) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto db = Database::open(root);
    if (!db.ok()) ::_exit(2);
    auto start = db->view([](const Txn& txn) { return read_counter(txn, "counter"); });
    if (!start.ok()) ::_exit(3);
    const std::string filler(200, 'f');
    for (std::int64_t i = *start + 1; i < *start + 1'000'000; ++i) {
        auto done = db->update([&](WriteTxn& txn) -> Status {
            GANTRY_TRY(put_value(txn, kCrash, "counter", encode_varint(i)));
            for (int j = 0; j < kFillPerTxn; ++j)
                GANTRY_TRY(put_value(txn, fill_bucket(i), std::to_string(j), filler));
            GANTRY_TRY(put_value(txn, kItems, std::to_string(i), std::to_string(i)));
            return put_value(txn, kCrash, "copy", encode_varint(i));
        });
        if (!done.ok()) ::_exit(4);
        if (::write(report_fd, &i, sizeof i) != sizeof i) ::_exit(5);
    }
    ::_exit(6);
}

TEST(CrashSafety, KilledWriterLeavesOnlyWholeTransactions) {
    TempDir tmp;
    std::mt19937 rng(std::random_device{}());
    std::int64_t previous = 0;
    for (int round = 0; round < 10; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        int fds[2];
        ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            writer(tmp.path(), fds[1]);
        }
        ::close(fds[1]);

        // Let it commit at least once, then kill it somewhere in its loop.
        std::int64_t reported = 0;
        ASSERT_EQ(::read(fds[0], &reported, sizeof reported),
                  static_cast<ssize_t>(sizeof reported));
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 80'000));
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "writer stopped by itself, status " << status;
        for (std::int64_t r = 0; ::read(fds[0], &r, sizeof r) == sizeof r;)
            reported = r;
        ::close(fds[0]);

        auto db = Database::open(tmp.path());
        ASSERT_TRUE(db.ok()) << db.error().message();
        auto txn = db->begin_read();
        ASSERT_TRUE(txn.ok());
        auto counter = read_counter(*txn, "counter");
        auto copy = read_counter(*txn, "copy");
        ASSERT_TRUE(counter.ok() && copy.ok());
        EXPECT_EQ(*counter, *copy);
        EXPECT_GE(*counter, reported) << "a commit that returned was lost";
        EXPECT_GE(*counter, previous);
        // Every committed transaction is whole; the one in flight left nothing.
        for (std::int64_t i = 1; i <= *counter; ++i) {
            auto item = get_value(*txn, kItems, std::to_string(i));
            ASSERT_TRUE(item.ok() && item->has_value()) << "item " << i;
            ASSERT_EQ(list_values(*txn, fill_bucket(i))->size(), std::size_t{kFillPerTxn});
        }
        EXPECT_FALSE(get_value(*txn, kItems, std::to_string(*counter + 1))->has_value());
        EXPECT_FALSE(*bucket_exists(*txn, fill_bucket(*counter + 1)));
        previous = *counter;
    }
    EXPECT_GT(previous, 0);
}

} // namespace
} // namespace gantry::metadata
