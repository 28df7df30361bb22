// The metadata layer runs the snapshotter conformance suite (snapshotters/testsuite) over the
// real native and overlayfs backends: a Snapshotter seen through metadata::SnapshotStore in one
// namespace, so every backend rule holds end to end with keys, parents and labels in metadata.
// cleanup() is the store's prune (orphaned backend snapshots, then the backend's cleanup), as
// the Cleanup RPC does it.
#include "core/metadata/snapshots.hpp"
#include "snapshotters/native/native.hpp"
#include "snapshotters/overlay/overlay.hpp"
#include "snapshotters/testsuite/testsuite.hpp"

namespace gantry::snapshots::testing {
namespace {

class NamespacedSnapshotter final : public Snapshotter {
public:
    NamespacedSnapshotter(std::shared_ptr<metadata::Database> db,
                          std::shared_ptr<metadata::SnapshotStore> store)
        : db_(std::move(db)), store_(std::move(store)) {}

    Result<Info> stat(std::string_view key) override { return store_->stat(kNs, key); }
    Result<Info> update(const Info& info, std::span<const std::string> paths) override {
        return store_->update(kNs, info, paths);
    }
    Result<Usage> usage(std::string_view key) override { return store_->usage(kNs, key); }
    Result<Mounts> mounts(std::string_view key) override { return store_->mounts(kNs, key); }
    Result<Mounts> prepare(std::string_view key, std::string_view parent,
                           const Labels& labels) override {
        return store_->prepare(kNs, "", key, parent, labels);
    }
    Result<Mounts> view(std::string_view key, std::string_view parent,
                        const Labels& labels) override {
        return store_->view(kNs, "", key, parent, labels);
    }
    Status commit(std::string_view name, std::string_view key, const Labels& labels) override {
        return store_->commit(kNs, "", name, key, labels);
    }
    Status remove(std::string_view key) override { return store_->remove(kNs, key); }
    Status walk(const filters::Filter* filter, const WalkFn& fn) override {
        return store_->walk(kNs, filter, fn);
    }
    Status cleanup() override {
        auto pruned = store_->prune(false);
        if (!pruned.ok()) return std::move(pruned).error();
        return {};
    }

private:
    static constexpr std::string_view kNs = "conformance";
    std::shared_ptr<metadata::Database> db_;
    std::shared_ptr<metadata::SnapshotStore> store_;
};

template <typename Open>
Result<std::shared_ptr<Snapshotter>> wrap(const std::filesystem::path& root, Open open) {
    std::filesystem::create_directories(root / "meta");
    GANTRY_ASSIGN_OR_RETURN(auto db, metadata::Database::open(root / "meta"));
    auto shared = std::make_shared<metadata::Database>(std::move(db));
    GANTRY_ASSIGN_OR_RETURN(std::shared_ptr<Snapshotter> backend, open(root / "backend"));
    auto store = std::make_shared<metadata::SnapshotStore>(shared, "sn", backend);
    return std::shared_ptr<Snapshotter>(std::make_shared<NamespacedSnapshotter>(shared, store));
}

} // namespace
} // namespace gantry::snapshots::testing

GANTRY_SNAPSHOTTER_TESTSUITE(MetadataNative, [](const std::filesystem::path& root) {
    return gantry::snapshots::testing::wrap(
        root, [](const std::filesystem::path& r) { return gantry::snapshots::native::open(r); });
})
GANTRY_SNAPSHOTTER_TESTSUITE(MetadataOverlay, [](const std::filesystem::path& root) {
    return gantry::snapshots::testing::wrap(
        root, [](const std::filesystem::path& r) { return gantry::snapshots::overlay::open(r); });
})
