// Task metrics and OOM notification from the container's cgroups (v1 hierarchies, or v2).
#pragma once

#include "shims/gantry-shim/fd.hpp"

#include <string>

namespace gantry::shim {

// An Any holding io.containerd.cgroups.v1.Metrics (or v2.Metrics on a unified host) for the
// cgroups of `pid`. Returns an error message, empty on success.
std::string cgroupMetrics(int pid, std::string& anyOut);

// An eventfd that becomes readable when the memory cgroup of `pid` hits OOM (cgroup v1
// memory.oom_control via cgroup.event_control). `oomControl` receives the watched file's path.
Fd watchOom(int pid, std::string& oomControl);

} // namespace gantry::shim
