// A throwaway btrfs filesystem for tests: a sparse file, mkfs.btrfs, a loop device, a mount.
//
// Teardown is RAII and survives a failing test: the destructor unmounts (lazily if something is
// still busy), and the loop device is attached with LO_FLAGS_AUTOCLEAR, so the kernel detaches
// it by itself once the last mount is gone. The backing file is unlinked as soon as the loop
// device holds it. A test process killed outright (no destructors) leaves its mount; the next
// create() detaches the mounts of dead owners (directory names carry the owner's pid).
#pragma once

#include "core/errors.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace gantry::snapshots::btrfs::testing {

class LoopBtrfs {
public:
    // Unavailable (a reason for GTEST_SKIP) when this machine cannot do it: not root, no loop
    // devices, no mkfs.btrfs, no btrfs in the kernel. Any other error is a real failure.
    // The filesystem is mounted at a fresh directory under `parent`.
    static Result<std::unique_ptr<LoopBtrfs>> create(const std::filesystem::path& parent = "/tmp",
                                                     std::uint64_t size = 512ull << 20);
    ~LoopBtrfs();
    LoopBtrfs(const LoopBtrfs&) = delete;
    LoopBtrfs& operator=(const LoopBtrfs&) = delete;

    const std::filesystem::path& mount_point() const { return mount_point_; }
    const std::string& device() const { return device_; }

private:
    LoopBtrfs() = default;
    std::filesystem::path dir_; // holds the mount point
    std::filesystem::path mount_point_;
    std::string device_;
    bool mounted_ = false;
};

} // namespace gantry::snapshots::btrfs::testing

// In a gtest body or SetUp: `GANTRY_BTRFS_OR_SKIP(fs);` declares `fs`, a unique_ptr<LoopBtrfs>,
// skipping the test when loop devices are unavailable and failing it on any other error.
#define GANTRY_BTRFS_OR_SKIP(var)                                                                  \
    auto var##_result = ::gantry::snapshots::btrfs::testing::LoopBtrfs::create();                  \
    if (!var##_result.ok() && var##_result.error().is(::gantry::Errc::Unavailable))                \
        GTEST_SKIP() << var##_result.error().message();                                            \
    ASSERT_TRUE(var##_result.ok()) << var##_result.error().message();                              \
    auto var = std::move(var##_result).value()
