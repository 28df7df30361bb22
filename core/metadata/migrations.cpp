#include "core/metadata/migrations.hpp"

#include "core/metadata/buckets.hpp"
#include "core/metadata/schema.hpp"
#include "core/metadata/value_encoding.hpp"

#include <array>
#include <string>

namespace gantry::metadata {

namespace {

// 0 → 1: an empty database gets the top bucket v1 (the version itself is written by migrate).
Status create_v1(WriteTxn& txn) {
    GANTRY_TRY(ensure_bucket(txn, schema::v1()));
    return ok_status();
}

constexpr std::array<Migration, 1> kMigrations{{
    {1, "create the v1 bucket", &create_v1},
}};

static_assert(kMigrations.back().version == kSchemaVersion,
              "the last migration must produce kSchemaVersion");

} // namespace

std::span<const Migration> migrations() {
    return kMigrations;
}

Result<std::int64_t> read_schema_version(const Txn& txn) {
    GANTRY_ASSIGN_OR_RETURN(auto stored, get_value(txn, schema::v1(), schema::kVersion));
    if (!stored) return std::int64_t{0};
    auto version = decode_varint(*stored);
    if (!version) return std::move(version).error().wrap("metadata: schema version");
    return version;
}

Result<bool> migrate(WriteTxn& txn, std::span<const Migration> steps, std::int64_t target) {
    GANTRY_ASSIGN_OR_RETURN(std::int64_t current, read_schema_version(txn));
    const std::int64_t newest = steps.empty() ? 0 : steps.back().version;
    if (current > newest)
        return failed_precondition("metadata: database schema version " + std::to_string(current) +
                                   " is newer than this build supports (" + std::to_string(newest) +
                                   ")");
    bool changed = false;
    for (const Migration& step : steps) {
        if (step.version <= current || step.version > target) continue;
        if (auto applied = step.apply(txn); !applied.ok())
            return std::move(applied).error().wrap("metadata: migration to schema version " +
                                                   std::to_string(step.version));
        GANTRY_TRY(put_value(txn, schema::v1(), schema::kVersion, encode_varint(step.version)));
        current = step.version;
        changed = true;
    }
    return changed;
}

} // namespace gantry::metadata
