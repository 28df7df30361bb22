// The part shared by the backends that keep one directory per snapshot under
// `<root>/snapshots/<id>` next to their private state (native, overlayfs): lookups, label
// updates, usage, commit, walk and cleanup of unowned directories. A backend says where a
// snapshot's data lives, how it is mounted and how a new one is built.
//
// Every change runs in one write transaction together with its directory work: a new snapshot is
// built as `snapshots/new-XXXXXX`, renamed to its id, and only then is the record committed, so a
// crash leaves at worst an unowned directory for cleanup().
#pragma once

#include "core/snapshots/snapshotter.hpp"
#include "core/snapshots/storage.hpp"

#include <filesystem>
#include <functional>
#include <memory>

namespace gantry::snapshots {

class DirectorySnapshotter : public Snapshotter {
public:
    DirectorySnapshotter(std::filesystem::path root, std::shared_ptr<storage::MetaStore> ms);

    Result<Info> stat(std::string_view key) override;
    Result<Info> update(const Info& info, std::span<const std::string> paths) override;
    Result<Usage> usage(std::string_view key) override;
    Result<Mounts> mounts(std::string_view key) override;
    Result<Mounts> prepare(std::string_view key, std::string_view parent,
                           const Labels& labels) override;
    Result<Mounts> view(std::string_view key, std::string_view parent,
                        const Labels& labels) override;
    Status commit(std::string_view name, std::string_view key, const Labels& labels) override;
    // Only the record goes; cleanup() deletes the directory.
    Status remove(std::string_view key) override;
    Status walk(const filters::Filter* filter, const WalkFn& fn) override;
    Status cleanup() override;

protected:
    std::filesystem::path dir(std::uint64_t id) const { return snapshots_ / std::to_string(id); }

    // The directory whose size is the snapshot's usage (what the container writes).
    virtual std::filesystem::path data_dir(std::uint64_t id) const = 0;
    virtual Mounts mounts_of(const storage::Snapshot& s) const = 0;
    // Whether `s` needs a directory of its own (a view of a committed parent may not).
    virtual bool needs_dir(const storage::Snapshot& s) const = 0;
    // Fills the fresh directory `tmp` of the new snapshot `s`.
    virtual Status build(const storage::Snapshot& s, const std::filesystem::path& tmp) = 0;
    // Labels a backend adds to what it reports (overlay's upperdir label); none by default.
    virtual void decorate(std::uint64_t /*id*/, Info& /*info*/) const {}
    virtual bool decorates() const { return false; }

    Result<Mounts> create(Kind kind, std::string_view key, std::string_view parent,
                          const Labels& labels);

    std::filesystem::path root_;
    std::filesystem::path snapshots_;
    std::shared_ptr<storage::MetaStore> ms_;
};

} // namespace gantry::snapshots
