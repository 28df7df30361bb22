// An exclusive lock on the daemon root: a second gantryd on the same root refuses to start
// instead of corrupting the first one's state. flock is released by the kernel when the process
// dies, so a crashed daemon never leaves a stale lock behind.
#pragma once

#include "core/errors.hpp"
#include "core/fs/unique_fd.hpp"

#include <string>

namespace gantry::daemon {

class RootLock {
public:
    static Result<RootLock> acquire(const std::string& root);

private:
    explicit RootLock(fs::UniqueFd fd) : fd_(std::move(fd)) {}
    fs::UniqueFd fd_;
};

} // namespace gantry::daemon
