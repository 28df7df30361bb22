// io.containerd.service.v1 "diff-service": the configured differs, tried in order (config key
// `default`, ["walking"] unless set). A differ answering NotImplemented (say, for a media type it
// does not know) passes the request to the next one; any other result is final.
#pragma once

#include "core/diff/differ.hpp"

#include <memory>
#include <string>
#include <vector>

namespace gantry::diff {

struct ServiceConfig {
    std::vector<std::string> order{"walking"};
};

class DifferChain final : public Differ {
public:
    explicit DifferChain(std::vector<std::shared_ptr<Differ>> differs)
        : differs_(std::move(differs)) {}

    Result<Descriptor> apply(std::string_view ns, const Descriptor& layer,
                             std::span<const mount::Mount> mounts) override;
    Result<Descriptor> compare(std::string_view ns, std::string_view lease,
                               std::span<const mount::Mount> lower,
                               std::span<const mount::Mount> upper,
                               const CompareOptions& options) override;

private:
    std::vector<std::shared_ptr<Differ>> differs_;
};

} // namespace gantry::diff
