#include "core/metadata/database.hpp"

#include "core/metadata/migrations.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace gantry::metadata {

Result<Database> Database::open(const std::filesystem::path& root, const EnvOptions& options) {
    const std::filesystem::path dir = root / kDirectoryName;
    const std::string quoted = "\"" + dir.string() + "\"";
    if (::mkdir(dir.c_str(), 0700) != 0) {
        const int err = errno;
        if (err != EEXIST) return from_errno(err, "metadata: create directory " + quoted);
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) return from_errno(errno, "metadata: stat " + quoted);
        if (!S_ISDIR(st.st_mode))
            return failed_precondition("metadata: " + quoted + " exists and is not a directory");
    }

    GANTRY_ASSIGN_OR_RETURN(Env env, Env::open(dir, options));
    bool empty = false;
    {
        GANTRY_ASSIGN_OR_RETURN(ReadTxn rtxn, env.begin_read());
        GANTRY_ASSIGN_OR_RETURN(auto cur, rtxn.cursor());
        // LMDB keys are never empty, so "\0" sorts at or before the first key there is.
        GANTRY_ASSIGN_OR_RETURN(auto first, cur.seek(std::string_view("\0", 1)));
        empty = !first.has_value();
    }
    if (!empty) {
        GANTRY_ASSIGN_OR_RETURN(WriteTxn txn, env.begin_write());
        GANTRY_ASSIGN_OR_RETURN(bool changed, migrate(txn));
        // When nothing changed the transaction is abandoned and the file stays as it was.
        if (changed) GANTRY_TRY(txn.commit());
    }
    return Database(std::move(env), empty);
}

Result<WriteTxn> Database::begin_write() {
    GANTRY_ASSIGN_OR_RETURN(WriteTxn txn, env_.begin_write());
    if (empty_at_open_) GANTRY_TRY(migrate(txn));
    return txn;
}

} // namespace gantry::metadata
