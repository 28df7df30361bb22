// A backend snapshotter in memory, for tests of the layers above it (metadata::SnapshotStore,
// GC, the gRPC adapter). It keeps the backend rules of protocol-facts §8.1 (AlreadyExists,
// NotFound parent, InvalidArgument for an uncommitted parent, FailedPrecondition for Mounts of a
// committed snapshot, Commit of a non-active one and Remove with children) and, like a remote
// snapshotter, answers AlreadyExists to a Prepare whose containerd.io/snapshot.ref label names
// a committed snapshot it already has with the same parent. Mounts are bind mounts of a
// made-up path "/fake/<key>". It counts cleanup() calls and can be told to fail.
#pragma once

#include "core/filters/adaptor.hpp"
#include "core/filters/filter.hpp"
#include "core/snapshots/snapshotter.hpp"

#include <map>
#include <mutex>
#include <optional>

namespace gantry::snapshots::testing {

class FakeSnapshotter final : public Snapshotter {
public:
    Result<Info> stat(std::string_view key) override {
        std::lock_guard lk(mu_);
        auto it = snaps_.find(std::string(key));
        if (it == snaps_.end()) return not_found("snapshot " + std::string(key) + " not found");
        return it->second;
    }
    Result<Info> update(const Info& info, std::span<const std::string> paths) override {
        std::lock_guard lk(mu_);
        auto it = snaps_.find(info.name);
        if (it == snaps_.end()) return not_found("snapshot " + info.name + " not found");
        if (paths.empty()) {
            it->second.labels = info.labels;
        } else {
            for (const auto& p : paths) {
                if (p == "labels") {
                    it->second.labels = info.labels;
                } else if (p.starts_with("labels.")) {
                    const std::string k = p.substr(7);
                    auto v = info.labels.find(k);
                    if (v == info.labels.end() || v->second.empty())
                        it->second.labels.erase(k);
                    else
                        it->second.labels[k] = v->second;
                } else {
                    return invalid_argument("cannot update " + p);
                }
            }
        }
        ++updates;
        return it->second;
    }
    Result<Usage> usage(std::string_view key) override {
        std::lock_guard lk(mu_);
        if (!snaps_.count(std::string(key))) return not_found(std::string(key));
        return Usage{4096, 1};
    }
    Result<Mounts> mounts(std::string_view key) override {
        std::lock_guard lk(mu_);
        auto it = snaps_.find(std::string(key));
        if (it == snaps_.end()) return not_found(std::string(key));
        if (it->second.kind == Kind::committed)
            return failed_precondition("cannot mount a committed snapshot");
        return mounts_of(it->second);
    }
    Result<Mounts> prepare(std::string_view key, std::string_view parent,
                           const Labels& labels) override {
        return create(key, parent, labels, Kind::active);
    }
    Result<Mounts> view(std::string_view key, std::string_view parent,
                        const Labels& labels) override {
        return create(key, parent, labels, Kind::view);
    }
    Status commit(std::string_view name, std::string_view key, const Labels& labels) override {
        std::lock_guard lk(mu_);
        if (fail_commit) return unknown_error("injected commit failure");
        if (snaps_.count(std::string(name))) return already_exists(std::string(name));
        auto it = snaps_.find(std::string(key));
        if (it == snaps_.end()) return not_found(std::string(key));
        if (it->second.kind != Kind::active)
            return failed_precondition("snapshot " + std::string(key) + " is not active");
        Info info = it->second;
        snaps_.erase(it);
        info.name = std::string(name);
        info.kind = Kind::committed;
        info.labels = labels;
        snaps_.emplace(info.name, info);
        return {};
    }
    Status remove(std::string_view key) override {
        std::lock_guard lk(mu_);
        auto it = snaps_.find(std::string(key));
        if (it == snaps_.end()) return not_found(std::string(key));
        for (const auto& [n, i] : snaps_)
            if (i.parent == key) return failed_precondition("snapshot has children");
        snaps_.erase(it);
        ++removals;
        return {};
    }
    Status walk(const filters::Filter* filter, const WalkFn& fn) override {
        std::vector<Info> all;
        {
            std::lock_guard lk(mu_);
            for (const auto& [n, i] : snaps_)
                all.push_back(i);
        }
        for (const auto& i : all) {
            if (filter != nullptr) {
                filters::FieldsAdaptor a;
                a.add("name", i.name).add("parent", i.parent).add_map("labels", i.labels);
                if (!filter->match(a)) continue;
            }
            GANTRY_TRY(fn(i));
        }
        return {};
    }
    Status cleanup() override {
        std::lock_guard lk(mu_);
        ++cleanups;
        return {};
    }

    bool has(const std::string& key) {
        std::lock_guard lk(mu_);
        return snaps_.count(key) != 0;
    }
    std::size_t size() {
        std::lock_guard lk(mu_);
        return snaps_.size();
    }
    std::vector<std::string> keys() {
        std::lock_guard lk(mu_);
        std::vector<std::string> out;
        for (const auto& [n, i] : snaps_)
            out.push_back(n);
        return out;
    }

    int cleanups = 0;
    int removals = 0;
    int updates = 0;
    bool fail_prepare = false;
    bool fail_commit = false;

private:
    static Mounts mounts_of(const Info& i) {
        mount::Mount m;
        m.type = "bind";
        m.source = "/fake/" + i.name;
        m.options = {i.kind == Kind::view ? "ro" : "rw", "rbind"};
        return {m};
    }

    Result<Mounts> create(std::string_view key, std::string_view parent, const Labels& labels,
                          Kind kind) {
        std::lock_guard lk(mu_);
        if (fail_prepare) return unknown_error("injected prepare failure");
        if (auto ref = labels.find(std::string(kRefLabel)); ref != labels.end()) {
            for (const auto& [n, i] : snaps_) {
                auto l = i.labels.find(std::string(kRefLabel));
                if (i.kind == Kind::committed && i.parent == parent && l != i.labels.end() &&
                    l->second == ref->second)
                    return already_exists("target snapshot " + ref->second);
            }
        }
        if (snaps_.count(std::string(key))) return already_exists(std::string(key));
        if (!parent.empty()) {
            auto p = snaps_.find(std::string(parent));
            if (p == snaps_.end()) return not_found("parent " + std::string(parent));
            if (p->second.kind != Kind::committed)
                return invalid_argument("parent " + std::string(parent) + " is not committed");
        }
        Info info;
        info.name = std::string(key);
        info.parent = std::string(parent);
        info.kind = kind;
        info.labels = labels;
        snaps_.emplace(info.name, info);
        return mounts_of(info);
    }

    std::mutex mu_;
    std::map<std::string, Info> snaps_;
};

} // namespace gantry::snapshots::testing
