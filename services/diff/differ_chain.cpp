#include "services/diff/differ_chain.hpp"

namespace gantry::diff {

namespace {

template <typename Fn>
Result<Descriptor> first_implemented(const std::vector<std::shared_ptr<Differ>>& differs,
                                     std::string_view what, Fn&& fn) {
    std::optional<Error> last;
    for (const auto& d : differs) {
        auto r = fn(*d);
        if (r.ok() || !r.error().is(Errc::NotImplemented)) return r;
        last = std::move(r).error();
    }
    if (last) return *last;
    return not_implemented(std::string("no differ configured for ") + std::string(what));
}

} // namespace

Result<Descriptor> DifferChain::apply(std::string_view ns, const Descriptor& layer,
                                      std::span<const mount::Mount> mounts) {
    return first_implemented(differs_, "apply",
                             [&](Differ& d) { return d.apply(ns, layer, mounts); });
}

Result<Descriptor> DifferChain::compare(std::string_view ns, std::string_view lease,
                                        std::span<const mount::Mount> lower,
                                        std::span<const mount::Mount> upper,
                                        const CompareOptions& options) {
    return first_implemented(
        differs_, "diff", [&](Differ& d) { return d.compare(ns, lease, lower, upper, options); });
}

} // namespace gantry::diff
