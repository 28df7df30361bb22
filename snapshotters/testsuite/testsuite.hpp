// The snapshotter conformance suite: one parameterised GoogleTest suite that every backend
// (native, overlayfs, btrfs, and later the metadata wrapper) runs by adding ONE line to a test
// file linking `gantry-snapshotter-testsuite`:
//
//     GANTRY_SNAPSHOTTER_TESTSUITE(Native, [](const std::filesystem::path& root) {
//         return gantry::snapshots::native::open(root);
//     });
//
// Each case gets a fresh directory on a filesystem that can host overlay (by default under
// /var/tmp; a backend that needs e.g. btrfs passes `base`), opens the backend with `root` inside
// it, mounts what the backend returns for real (mount::TempMount) and checks files one by one.
// Mounts below the directory are undone and the directory removed even when a case fails.
// Cases follow containerd's snapshots/testsuite in spirit; they need root.
#pragma once

#include "core/errors.hpp"
#include "core/mount/mount.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <filesystem>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <ostream>
#include <string>

namespace gantry::snapshots::testsuite {

using Factory =
    std::function<Result<std::shared_ptr<Snapshotter>>(const std::filesystem::path& root)>;
// Where the per-case directories go. An error skips the whole suite for this backend with the
// error's message (e.g. "no btrfs here").
using BaseDir = std::function<Result<std::filesystem::path>()>;

struct Backend {
    std::string name;
    Factory factory;
    BaseDir base; // null: /var/tmp
};

// gtest prints a parameter of a failed case: the backend's name, not its bytes.
inline void PrintTo(const Backend& b, std::ostream* os) {
    *os << b.name;
}

class SnapshotterSuite : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override;
    void TearDown() override;

    // Mounts of `key` (or `ms`) mounted on a fresh directory; unmounted when the result dies.
    Result<mount::TempMount> mount_key(std::string_view key);
    Result<mount::TempMount> mount_these(const Mounts& ms);
    // Prepare `key` on `parent`, mount it, run `fill` on the mount point, unmount, commit `name`.
    void layer(const std::string& name, const std::string& key, const std::string& parent,
               const std::function<void(const std::filesystem::path&)>& fill);

    std::filesystem::path dir_;  // the case's directory
    std::filesystem::path root_; // the backend's root, inside dir_
    Factory factory_;
    std::shared_ptr<Snapshotter> sn_;
};

// Pulls the suite's object file into the test binary (its TEST_Ps register from there).
bool link_suite() noexcept;

} // namespace gantry::snapshots::testsuite

// gtest wants the fixture's unqualified name, hence the namespace around the instantiation.
#define GANTRY_SNAPSHOTTER_TESTSUITE_WITH_BASE(suite, factory, base)                               \
    namespace gantry::snapshots::testsuite {                                                       \
    [[maybe_unused]] static const bool gantry_snapshotter_suite_linked_##suite = link_suite();     \
    INSTANTIATE_TEST_SUITE_P(suite, SnapshotterSuite,                                              \
                             ::testing::Values(Backend{#suite, factory, base}),                    \
                             [](const auto& p) { return p.param.name; });                          \
    }

#define GANTRY_SNAPSHOTTER_TESTSUITE(suite, factory)                                               \
    GANTRY_SNAPSHOTTER_TESTSUITE_WITH_BASE(suite, factory, nullptr)
