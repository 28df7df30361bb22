// RAII over LMDB: one environment, one named database, read and write transactions and cursors.
//
// Choices worth knowing:
// - The environment is opened with MDB_NOTLS, so a ReadTxn is not tied to the thread that began
//   it: it may be handed to another thread, as long as only one thread uses it at a time.
// - A WriteTxn must stay on the thread that began it (LMDB's rule). LMDB admits one writer at a
//   time: begin_write() waits for the current writer to finish, so a thread that already holds a
//   WriteTxn must not begin another one (it would wait for itself).
// - Readers see a snapshot and never block the writer, nor does the writer block them (MVCC).
// - The map size is virtual address space, not disk: the data file grows as it fills. 64 GiB by
//   default; filling it makes writes fail with ResourceExhausted.
// - Values returned as string_view point into the memory map. They stay valid until the
//   transaction ends, or in a write transaction until the next put/del.
// - The first failed put/del poisons a WriteTxn: LMDB may have half-applied it, so commit()
//   refuses and returns that error instead, and the destructor aborts.
#pragma once

#include "core/errors.hpp"

#include <cstddef>
#include <filesystem>
#include <lmdb.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gantry::metadata {

// Turns an LMDB return code into an Error: full map/reader table → ResourceExhausted, oversized
// key → InvalidArgument, corruption → DataLoss, errno values through from_errno.
Error lmdb_error(int rc, std::string_view context);

struct EnvOptions {
    std::size_t map_size = std::size_t{64} << 30;
    unsigned max_readers = 1024;
};

class Cursor;

// Reading works the same in read and write transactions; functions that only read take this.
class Txn {
public:
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

    // The value stored under `key`, or nullopt.
    Result<std::optional<std::string_view>> get(std::string_view key) const;
    Result<Cursor> cursor() const;
    bool active() const noexcept { return txn_ != nullptr; }

protected:
    Txn(MDB_txn* txn, MDB_dbi dbi) noexcept : txn_(txn), dbi_(dbi) {}
    Txn(Txn&& other) noexcept;
    Txn& operator=(Txn&& other) noexcept;
    ~Txn();

    MDB_txn* txn_;
    MDB_dbi dbi_;
};

class ReadTxn : public Txn {
public:
    ReadTxn(ReadTxn&&) noexcept = default;
    ReadTxn& operator=(ReadTxn&&) noexcept = default;
    ~ReadTxn() = default;

private:
    friend class Env;
    ReadTxn(MDB_txn* txn, MDB_dbi dbi) noexcept : Txn(txn, dbi) {}
};

class WriteTxn : public Txn {
public:
    WriteTxn(WriteTxn&&) noexcept = default;
    WriteTxn& operator=(WriteTxn&&) noexcept = default;
    ~WriteTxn() = default;

    Status put(std::string_view key, std::string_view value);
    // Whether the key existed.
    Result<bool> del(std::string_view key);
    // Makes every change durable at once, or none of them. The transaction is over either way.
    Status commit();

private:
    friend class Env;
    WriteTxn(MDB_txn* txn, MDB_dbi dbi) noexcept : Txn(txn, dbi) {}
    Status fail(int rc, std::string_view context);

    std::optional<Error> poisoned_;
};

// Positioned over the keys of one transaction, in byte order.
class Cursor {
public:
    struct Entry {
        std::string_view key;
        std::string_view value;
    };

    Cursor(Cursor&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
    Cursor& operator=(Cursor&& other) noexcept;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor();

    // The first entry whose key is >= `key`.
    Result<std::optional<Entry>> seek(std::string_view key);
    Result<std::optional<Entry>> next();

private:
    friend class Txn;
    explicit Cursor(MDB_cursor* cursor) noexcept : cursor_(cursor) {}
    Result<std::optional<Entry>> get(MDB_val* key, MDB_cursor_op op);

    MDB_cursor* cursor_;
};

class Env {
public:
    // Opens the environment stored in `dir` (which must exist), creating its files if needed.
    static Result<Env> open(const std::filesystem::path& dir, const EnvOptions& options = {});

    Result<ReadTxn> begin_read() const;
    Result<WriteTxn> begin_write();

    const std::filesystem::path& path() const noexcept { return path_; }
    // The longest key LMDB accepts (511 bytes in a default build).
    std::size_t max_key_size() const noexcept;

private:
    struct Closer {
        void operator()(MDB_env* env) const noexcept { mdb_env_close(env); }
    };
    Env(std::unique_ptr<MDB_env, Closer> env, MDB_dbi dbi, std::filesystem::path path)
        : env_(std::move(env)), dbi_(dbi), path_(std::move(path)) {}

    std::unique_ptr<MDB_env, Closer> env_;
    MDB_dbi dbi_;
    std::filesystem::path path_;
};

} // namespace gantry::metadata
