// What the collector needs from the content store's on-disk backend, which is shared by all
// namespaces: every committed blob and every backend ingest, and a way to remove each. The
// content plugin's instance implements this in addition to its own store interface.
#pragma once

#include "core/errors.hpp"

#include <string>
#include <vector>

namespace gantry::gc {

class ContentBackend {
public:
    virtual ~ContentBackend() = default;
    // Digests ("sha256:<hex>") of every committed blob on disk.
    virtual Result<std::vector<std::string>> list_blobs() = 0;
    // Removes a committed blob; NotFound when it is already gone.
    virtual Status delete_blob(const std::string& digest) = 0;
    // Backend refs ("<ns>/<seq>/<ref>") of every ingest on disk.
    virtual Result<std::vector<std::string>> list_ingests() = 0;
    // Removes an ingest and its data; NotFound when it is already gone.
    virtual Status abort_ingest(const std::string& backend_ref) = 0;
};

} // namespace gantry::gc
