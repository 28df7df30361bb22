// The garbage collector as other components see it (io.containerd.gc.v1.scheduler).
// Deleting stores tell it that something became garbage; Images.Delete and Leases.Delete with
// `sync` wait for a full pass.
#pragma once

#include "core/errors.hpp"

namespace gantry::gc {

class Collector {
public:
    virtual ~Collector() = default;
    // A reference was removed (image, container, lease, lease resource, blob, snapshot): the
    // scheduler may collect soon, debounced.
    virtual void mark_dirty() = 0;
    // Runs (or joins) a full mark-and-sweep pass and returns when it has finished.
    virtual Status collect_now() = 0;
};

} // namespace gantry::gc
