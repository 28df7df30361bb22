#include "core/metadata/lmdb.hpp"

namespace gantry::metadata {

namespace {

// Everything lives in one named database; the name only matters to LMDB.
constexpr const char* kDatabaseName = "metadata";

MDB_val as_val(std::string_view s) noexcept {
    // LMDB never writes through mv_data of an input value.
    return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view as_view(const MDB_val& v) noexcept {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
}

} // namespace

Error lmdb_error(int rc, std::string_view context) {
    std::string message = std::string(context) + ": " + mdb_strerror(rc);
    switch (rc) {
    case MDB_MAP_FULL:
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case MDB_DBS_FULL:
    case MDB_TLS_FULL:
        return {Errc::ResourceExhausted, std::move(message)};
    case MDB_BAD_VALSIZE:
        return {Errc::InvalidArgument, std::move(message)};
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
        return {Errc::DataLoss, std::move(message)};
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
        return {Errc::FailedPrecondition, std::move(message)};
    default:
        break;
    }
    if (rc > 0) return from_errno(rc, context);
    return {Errc::Internal, std::move(message)};
}

// ---- Txn ----

Txn::Txn(Txn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)), dbi_(other.dbi_) {}

Txn& Txn::operator=(Txn&& other) noexcept {
    if (this != &other) {
        if (txn_ != nullptr) mdb_txn_abort(txn_);
        txn_ = std::exchange(other.txn_, nullptr);
        dbi_ = other.dbi_;
    }
    return *this;
}

Txn::~Txn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
}

Result<std::optional<std::string_view>> Txn::get(std::string_view key) const {
    if (txn_ == nullptr) return internal_error("metadata: read in a finished transaction");
    MDB_val k = as_val(key);
    MDB_val v{};
    int rc = mdb_get(txn_, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
    if (rc != 0) return lmdb_error(rc, "metadata: get");
    return std::optional<std::string_view>{as_view(v)};
}

Result<Cursor> Txn::cursor() const {
    if (txn_ == nullptr) return internal_error("metadata: cursor on a finished transaction");
    MDB_cursor* c = nullptr;
    if (int rc = mdb_cursor_open(txn_, dbi_, &c); rc != 0)
        return lmdb_error(rc, "metadata: open cursor");
    return Cursor(c);
}

// ---- WriteTxn ----

Status WriteTxn::fail(int rc, std::string_view context) {
    Error e = lmdb_error(rc, context);
    if (!poisoned_) poisoned_ = e;
    return e;
}

Status WriteTxn::put(std::string_view key, std::string_view value) {
    if (poisoned_) return *poisoned_;
    if (txn_ == nullptr) return internal_error("metadata: write in a finished transaction");
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    if (int rc = mdb_put(txn_, dbi_, &k, &v, 0); rc != 0) return fail(rc, "metadata: put");
    return ok_status();
}

Result<bool> WriteTxn::del(std::string_view key) {
    if (poisoned_) return *poisoned_;
    if (txn_ == nullptr) return internal_error("metadata: write in a finished transaction");
    MDB_val k = as_val(key);
    int rc = mdb_del(txn_, dbi_, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) return fail(rc, "metadata: delete").error();
    return true;
}

Status WriteTxn::commit() {
    if (txn_ == nullptr) return internal_error("metadata: commit of a finished transaction");
    if (poisoned_) {
        mdb_txn_abort(std::exchange(txn_, nullptr));
        return *poisoned_;
    }
    // LMDB frees the transaction whether or not the commit succeeds.
    if (int rc = mdb_txn_commit(std::exchange(txn_, nullptr)); rc != 0)
        return lmdb_error(rc, "metadata: commit");
    return ok_status();
}

// ---- Cursor ----

Cursor& Cursor::operator=(Cursor&& other) noexcept {
    if (this != &other) {
        if (cursor_ != nullptr) mdb_cursor_close(cursor_);
        cursor_ = std::exchange(other.cursor_, nullptr);
    }
    return *this;
}

Cursor::~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

Result<std::optional<Cursor::Entry>> Cursor::get(MDB_val* key, MDB_cursor_op op) {
    MDB_val v{};
    int rc = mdb_cursor_get(cursor_, key, &v, op);
    if (rc == MDB_NOTFOUND) return std::optional<Entry>{};
    if (rc != 0) return lmdb_error(rc, "metadata: cursor");
    return std::optional<Entry>{Entry{as_view(*key), as_view(v)}};
}

Result<std::optional<Cursor::Entry>> Cursor::seek(std::string_view key) {
    MDB_val k = as_val(key);
    return get(&k, MDB_SET_RANGE);
}

Result<std::optional<Cursor::Entry>> Cursor::next() {
    MDB_val k{};
    return get(&k, MDB_NEXT);
}

// ---- Env ----

Result<Env> Env::open(const std::filesystem::path& dir, const EnvOptions& options) {
    const std::string where = "metadata: LMDB environment \"" + dir.string() + "\"";
    MDB_env* raw = nullptr;
    if (int rc = mdb_env_create(&raw); rc != 0) return lmdb_error(rc, where);
    std::unique_ptr<MDB_env, Closer> env(raw);

    if (int rc = mdb_env_set_mapsize(raw, options.map_size); rc != 0)
        return lmdb_error(rc, where + ": set map size");
    if (int rc = mdb_env_set_maxreaders(raw, options.max_readers); rc != 0)
        return lmdb_error(rc, where + ": set max readers");
    if (int rc = mdb_env_set_maxdbs(raw, 1); rc != 0)
        return lmdb_error(rc, where + ": set max databases");
    if (int rc = mdb_env_open(raw, dir.c_str(), MDB_NOTLS, 0600); rc != 0)
        return lmdb_error(rc, where);

    // Reader slots left behind by a process that died mid-read would pin old pages forever.
    int stale = 0;
    if (int rc = mdb_reader_check(raw, &stale); rc != 0)
        return lmdb_error(rc, where + ": clear stale readers");

    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(raw, nullptr, 0, &txn); rc != 0)
        return lmdb_error(rc, where + ": begin");
    MDB_dbi dbi = 0;
    if (int rc = mdb_dbi_open(txn, kDatabaseName, MDB_CREATE, &dbi); rc != 0) {
        mdb_txn_abort(txn);
        return lmdb_error(rc, where + ": open database");
    }
    if (int rc = mdb_txn_commit(txn); rc != 0) return lmdb_error(rc, where + ": commit");
    return Env(std::move(env), dbi, dir);
}

Result<ReadTxn> Env::begin_read() const {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
        // Another process grew the map; adopt its size and retry once.
        mdb_env_set_mapsize(env_.get(), 0);
        rc = mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, &txn);
    }
    if (rc != 0) return lmdb_error(rc, "metadata: begin read transaction");
    return ReadTxn(txn, dbi_);
}

Result<WriteTxn> Env::begin_write() {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_.get(), nullptr, 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(env_.get(), 0);
        rc = mdb_txn_begin(env_.get(), nullptr, 0, &txn);
    }
    if (rc != 0) return lmdb_error(rc, "metadata: begin write transaction");
    return WriteTxn(txn, dbi_);
}

std::size_t Env::max_key_size() const noexcept {
    return static_cast<std::size_t>(mdb_env_get_maxkeysize(env_.get()));
}

} // namespace gantry::metadata
