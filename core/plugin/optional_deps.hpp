// The event exchange (io.containerd.event.v1) and the garbage collector (io.containerd.gc.v1) as
// optional dependencies of a store plugin: looked up when first needed through a copy of the
// InitContext, so the plugin works whatever order they were initialised in, and without them.
#pragma once

#include "core/events/publisher.hpp"
#include "core/gc/collector.hpp"
#include "core/log.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/types.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace gantry::plugin {

class OptionalDeps {
public:
    // `who` names the plugin in the log line of an event that could not be published.
    OptionalDeps(const InitContext& ctx, std::string who) : ctx_(ctx), who_(std::move(who)) {}

    std::shared_ptr<events::Publisher> publisher() {
        std::lock_guard lock(mu_);
        if (!publisher_) {
            if (auto p = ctx_.get_as<events::Publisher>(types::kEvent); p.ok())
                publisher_ = std::move(p).value();
        }
        return publisher_;
    }

    std::shared_ptr<gc::Collector> collector() {
        std::lock_guard lock(mu_);
        if (!collector_) {
            if (auto c = ctx_.get_as<gc::Collector>(types::kGc); c.ok())
                collector_ = std::move(c).value();
        }
        return collector_;
    }

    // Called after the change is committed: a failed event must not turn it into an error.
    void publish(std::string_view ns, std::string_view topic, const google::protobuf::Message& ev) {
        auto pub = publisher();
        if (!pub) return;
        if (auto st = pub->publish(ns, topic, ev); !st.ok())
            log::warn("{}: cannot publish {}: {}", who_, topic, st.error().message());
    }

    void mark_dirty() {
        if (auto gc = collector()) gc->mark_dirty();
    }

private:
    InitContext ctx_;
    std::string who_;
    std::mutex mu_;
    std::shared_ptr<events::Publisher> publisher_;
    std::shared_ptr<gc::Collector> collector_;
};

} // namespace gantry::plugin
