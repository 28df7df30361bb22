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
    {
        GANTRY_ASSIGN_OR_RETURN(WriteTxn txn, env.begin_write());
        GANTRY_ASSIGN_OR_RETURN(bool changed, migrate(txn));
        // When nothing changed the transaction is abandoned and the file stays as it was.
        if (changed) GANTRY_TRY(txn.commit());
    }
    return Database(std::move(env));
}

} // namespace gantry::metadata
