// The daemon's metadata database: one LMDB environment at
// <root>/io.containerd.metadata.v1.lmdb/, brought to this build's schema when opened.
//
// Every change is one write transaction: update() commits what its function did only if the
// function succeeded. Typed stores offer functions that take a transaction (namespaces.hpp), so a
// service can combine several operations in one update().
//
// Open each database once per process and share that object between threads: LMDB's file locks
// belong to the process, so a second handle on the same files that is later closed would drop
// the first handle's locks.
#pragma once

#include "core/errors.hpp"
#include "core/metadata/lmdb.hpp"

#include <filesystem>
#include <string_view>
#include <type_traits>
#include <utility>

namespace gantry::metadata {

class Database {
public:
    static constexpr std::string_view kDirectoryName = "io.containerd.metadata.v1.lmdb";

    // `root` must exist. The directory is created with mode 0700 if missing. Runs pending
    // migrations in one write transaction; a database written by a newer build is refused with
    // FailedPrecondition and left as it was.
    static Result<Database> open(const std::filesystem::path& root, const EnvOptions& options = {});

    Result<ReadTxn> begin_read() const { return env_.begin_read(); }
    // On a database that was empty at open, every write transaction first brings the schema up
    // to date (a cheap no-op once it is): an empty database needs no migration of its own, and
    // writing one at open would cost a commit, two fdatasyncs, on every cold start.
    Result<WriteTxn> begin_write();

    // Runs fn(const Txn&) -> Result<T> in a fresh read transaction.
    template <typename F>
    auto view(F&& fn) const -> std::invoke_result_t<F&, const Txn&> {
        using R = std::invoke_result_t<F&, const Txn&>;
        auto txn = begin_read();
        if (!txn.ok()) return R(std::move(txn).error());
        return fn(static_cast<const Txn&>(txn.value()));
    }

    // Runs fn(WriteTxn&) -> Result<T> in a fresh write transaction and commits it if fn
    // succeeded; otherwise nothing fn did is kept. Must not be called while this thread already
    // holds a write transaction.
    template <typename F>
    auto update(F&& fn) -> std::invoke_result_t<F&, WriteTxn&> {
        using R = std::invoke_result_t<F&, WriteTxn&>;
        auto txn = begin_write();
        if (!txn.ok()) return R(std::move(txn).error());
        R result = fn(txn.value());
        if (!result.ok()) return result;
        if (auto committed = txn.value().commit(); !committed.ok())
            return R(std::move(committed).error());
        return result;
    }

    Env& env() noexcept { return env_; }
    const std::filesystem::path& path() const noexcept { return env_.path(); }

private:
    Database(Env env, bool empty_at_open) : env_(std::move(env)), empty_at_open_(empty_at_open) {}

    Env env_;
    bool empty_at_open_ = false;
};

} // namespace gantry::metadata
