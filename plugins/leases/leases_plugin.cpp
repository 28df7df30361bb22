// io.containerd.service.v1.leases-service: the lease manager over the metadata database
// (core/metadata/leases.hpp). Removals tell the garbage collector (io.containerd.gc.v1.scheduler)
// that something may have become garbage; Delete with `sync` waits for a full pass.
#include "core/gc/collector.hpp"
#include "core/metadata/database.hpp"
#include "core/metadata/leases.hpp"
#include "core/plugin/abi.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"

namespace {

using namespace gantry;
namespace leases = metadata::leases;

class LeaseManager final : public leases::Manager {
public:
    LeaseManager(std::shared_ptr<metadata::Database> db, std::shared_ptr<gc::Collector> gc)
        : db_(std::move(db)), gc_(std::move(gc)) {}

    Result<leases::Lease> create(std::string_view ns, std::string_view id,
                                 const metadata::Labels& labels) override {
        return db_->update([&](metadata::WriteTxn& txn) -> Result<leases::Lease> {
            return leases::create(txn, ns, id, labels);
        });
    }

    Status remove(std::string_view ns, std::string_view id, bool sync) override {
        GANTRY_TRY(db_->update(
            [&](metadata::WriteTxn& txn) -> Status { return leases::remove(txn, ns, id); }));
        if (gc_) {
            gc_->mark_dirty();
            if (sync) return gc_->collect_now();
        }
        return ok_status();
    }

    Result<std::vector<leases::Lease>> list(std::string_view ns,
                                            const filters::Filter& filter) override {
        return db_->view([&](const metadata::Txn& txn) -> Result<std::vector<leases::Lease>> {
            return leases::list(txn, ns, filter);
        });
    }

    Status add_resource(std::string_view ns, std::string_view id,
                        const leases::Resource& r) override {
        return db_->update([&](metadata::WriteTxn& txn) -> Status {
            return leases::add_resource(txn, ns, id, r);
        });
    }

    Status delete_resource(std::string_view ns, std::string_view id,
                           const leases::Resource& r) override {
        GANTRY_TRY(db_->update([&](metadata::WriteTxn& txn) -> Status {
            return leases::delete_resource(txn, ns, id, r);
        }));
        if (gc_) gc_->mark_dirty();
        return ok_status();
    }

    Result<std::vector<leases::Resource>> list_resources(std::string_view ns,
                                                         std::string_view id) override {
        return db_->view([&](const metadata::Txn& txn) -> Result<std::vector<leases::Resource>> {
            return leases::list_resources(txn, ns, id);
        });
    }

private:
    std::shared_ptr<metadata::Database> db_;
    std::shared_ptr<gc::Collector> gc_;
};

Result<plugin::Instance> init(plugin::InitContext& ctx) {
    GANTRY_ASSIGN_OR_RETURN(auto db, ctx.get_as<metadata::Database>(plugin::types::kMetadata));
    GANTRY_ASSIGN_OR_RETURN(plugin::Instance gc, ctx.get(plugin::types::kGc, "scheduler"));
    std::shared_ptr<leases::Manager> manager =
        std::make_shared<LeaseManager>(std::move(db), std::static_pointer_cast<gc::Collector>(gc));
    return plugin::Instance(manager);
}

std::span<const plugin::Registration> registrations() {
    static const std::vector<plugin::Registration> regs{{
        .type = std::string(plugin::types::kService),
        .id = "leases-service",
        .requires_types = {std::string(plugin::types::kMetadata), std::string(plugin::types::kGc)},
        .config = nullptr,
        .default_config = "",
        .init = init,
    }};
    return regs;
}

} // namespace

GANTRY_PLUGIN_ENTRY("leases", registrations)
