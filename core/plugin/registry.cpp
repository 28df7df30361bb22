#include "core/plugin/registry.hpp"

#include "core/config/section_reader.hpp"
#include "core/log.hpp"
#include "core/plugin/init_context.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace gantry::plugin {

std::string_view state_name(State s) {
    switch (s) {
    case State::Pending:
        return "pending";
    case State::Ok:
        return "ok";
    case State::Skipped:
        return "skip";
    case State::Error:
        return "error";
    }
    return "error";
}

void Registry::add(Registration reg, std::string source) {
    std::lock_guard lk(mu_);
    for (const auto& r : records_) {
        if (r.reg.type == reg.type && r.reg.id == reg.id) {
            PluginRecord dup;
            dup.reg = std::move(reg);
            dup.source = std::move(source);
            dup.state = State::Error;
            dup.error_code = Errc::AlreadyExists;
            dup.message = "plugin " + dup.reg.uri() + " is already registered by " + r.source;
            records_.push_back(std::move(dup));
            return;
        }
    }
    PluginRecord rec;
    rec.reg = std::move(reg);
    rec.source = std::move(source);
    records_.push_back(std::move(rec));
}

void Registry::add_failed_object(std::string path, Error err) {
    PluginRecord rec;
    rec.reg.type = std::string(kSharedObjectType);
    auto slash = path.rfind('/');
    rec.reg.id = slash == std::string::npos ? path : path.substr(slash + 1);
    rec.source = std::move(path);
    rec.state = State::Error;
    rec.error_code = err.code();
    rec.message = err.message();
    std::lock_guard lk(mu_);
    records_.push_back(std::move(rec));
}

Status Registry::read_configs(const config::Config& cfg) {
    std::lock_guard lk(mu_);
    const toml::table* plugins = cfg.plugins.get();
    std::set<std::string> known;
    for (auto& rec : records_) {
        if (rec.state == State::Error) continue;
        const std::string uri = rec.reg.uri();
        known.insert(uri);
        const toml::table* section = nullptr;
        if (plugins != nullptr)
            if (const toml::node* n = plugins->get(uri)) {
                section = n->as_table();
                if (section == nullptr)
                    return invalid_argument(cfg.source_file + ": plugins.\"" + uri +
                                            "\": expected a table");
            }
        config::SectionReader reader(section, cfg.source_file, "plugins.\"" + uri + "\"");
        if (rec.reg.config) {
            auto parsed = rec.reg.config(reader);
            if (!parsed.ok()) return std::move(parsed).error();
            configs_[uri] = std::move(parsed).value();
        }
        GANTRY_TRY(reader.finish());
    }
    if (plugins != nullptr) {
        for (const auto& [k, node] : *plugins) {
            std::string uri(k.str());
            if (known.count(uri) ||
                std::count(cfg.disabled_plugins.begin(), cfg.disabled_plugins.end(), uri))
                continue;
            // Not fatal: the section may belong to a plugin whose .so failed to load, and that
            // failure is already visible in `plugins ls`.
            log::warn("config {}: section [plugins.\"{}\"] names no registered plugin",
                      cfg.source_file, uri);
        }
    }
    return {};
}

// Depth-first topological order over requirements. A requirement names a type; every plugin
// of that type goes first. A back edge is a cycle: every plugin on it is marked.
std::vector<std::size_t> Registry::order() {
    std::map<std::string, std::vector<std::size_t>, std::less<>> by_type;
    for (std::size_t i = 0; i < records_.size(); ++i)
        if (records_[i].state != State::Error || records_[i].reg.type != kSharedObjectType)
            by_type[records_[i].reg.type].push_back(i);

    enum Color { White, Gray, Black };
    std::vector<Color> color(records_.size(), White);
    std::vector<std::size_t> out, stack;

    auto fail = [&](std::size_t i, std::string msg) {
        if (records_[i].state == State::Error) return;
        records_[i].state = State::Error;
        records_[i].error_code = Errc::FailedPrecondition;
        records_[i].message = std::move(msg);
    };

    std::function<void(std::size_t)> visit = [&](std::size_t i) {
        color[i] = Gray;
        stack.push_back(i);
        for (const auto& t : records_[i].reg.requires_types) {
            auto it = by_type.find(t);
            if (it == by_type.end()) {
                fail(i, "missing requirement: no plugin of type " + t + " is registered");
                continue;
            }
            for (std::size_t j : it->second) {
                if (color[j] == Gray) {
                    auto from = std::find(stack.begin(), stack.end(), j);
                    std::string path;
                    for (auto k = from; k != stack.end(); ++k)
                        path += records_[*k].reg.uri() + " -> ";
                    path += records_[j].reg.uri();
                    for (auto k = from; k != stack.end(); ++k)
                        fail(*k, "dependency cycle: " + path);
                } else if (color[j] == White) {
                    visit(j);
                }
            }
        }
        stack.pop_back();
        color[i] = Black;
        out.push_back(i);
    };
    for (std::size_t i = 0; i < records_.size(); ++i)
        if (color[i] == White) visit(i);
    return out;
}

void Registry::init_all(const config::Config& cfg) {
    std::vector<std::size_t> seq;
    {
        std::lock_guard lk(mu_);
        std::erase_if(records_, [&](const PluginRecord& r) {
            return std::find(cfg.disabled_plugins.begin(), cfg.disabled_plugins.end(),
                             r.reg.uri()) != cfg.disabled_plugins.end();
        });
        seq = order();
        // Keep records in initialisation order so listings read top-down like the start log.
        std::vector<PluginRecord> sorted;
        sorted.reserve(records_.size());
        for (std::size_t i : seq)
            sorted.push_back(std::move(records_[i]));
        records_ = std::move(sorted);
    }

    for (std::size_t i = 0; i < records_.size(); ++i) {
        // Copy what we need under the lock; plugin init runs unlocked because it looks up
        // earlier plugins through find().
        Registration reg;
        {
            std::lock_guard lk(mu_);
            PluginRecord& rec = records_[i];
            if (rec.state != State::Pending) continue;
            // A requirement that did not come up passes its fate on.
            for (const auto& t : rec.reg.requires_types) {
                bool any_ok = false, any_skip = false;
                std::string why;
                for (const auto& other : records_) {
                    if (other.reg.type != t) continue;
                    any_ok |= other.state == State::Ok;
                    any_skip |= other.state == State::Skipped;
                    if (other.state != State::Ok) why = other.reg.uri() + ": " + other.message;
                }
                if (any_ok) continue;
                rec.state = any_skip ? State::Skipped : State::Error;
                rec.error_code = Errc::FailedPrecondition;
                rec.message = "requirement " + t + " is not available (" + why + ")";
                break;
            }
            if (rec.state != State::Pending) {
                log::warn("plugin {} {}: {}", rec.reg.uri(), state_name(rec.state), rec.message);
                continue;
            }
            reg = rec.reg;
        }

        ConfigPtr pc;
        if (auto it = configs_.find(reg.uri()); it != configs_.end()) pc = it->second;
        InitContext ctx(reg, cfg, pc, *this);
        Result<Instance> inst = Error(Errc::Internal, "plugin has no init function");
        const auto started = std::chrono::steady_clock::now();
        if (reg.init) {
            try {
                inst = reg.init(ctx);
            } catch (const std::exception& e) {
                inst = Error(Errc::Internal, std::string("init threw: ") + e.what());
            } catch (...) {
                inst = Error(Errc::Internal, "init threw a non-standard exception");
            }
        }

        std::lock_guard lk(mu_);
        PluginRecord& rec = records_[i];
        rec.exports = std::move(ctx.exports);
        rec.capabilities = std::move(ctx.capabilities);
        rec.platforms = std::move(ctx.platforms);
        if (ctx.skipped()) {
            rec.state = State::Skipped;
            rec.message = ctx.skip_reason();
            log::info("plugin {} skipped: {}", rec.reg.uri(), rec.message);
        } else if (!inst.ok()) {
            rec.state = State::Error;
            rec.error_code = inst.error().code();
            rec.message = inst.error().message();
            log::warn("plugin {} failed: {}", rec.reg.uri(), rec.message);
        } else {
            rec.state = State::Ok;
            rec.instance = std::move(inst).value();
            log::debug("plugin {} ok in {:.2f} ms", rec.reg.uri(),
                       std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                 started)
                           .count());
        }
    }
}

std::vector<PluginRecord> Registry::records() const {
    std::lock_guard lk(mu_);
    return records_;
}

Result<Instance> Registry::find(std::string_view type, std::string_view id) const {
    std::lock_guard lk(mu_);
    for (const auto& r : records_)
        if (r.reg.type == type && (id.empty() || r.reg.id == id) && r.state == State::Ok)
            return r.instance;
    std::string what(type);
    if (!id.empty()) what += "." + std::string(id);
    return not_found("no initialised plugin " + what);
}

std::vector<std::pair<std::string, Instance>> Registry::find_all(std::string_view type) const {
    std::lock_guard lk(mu_);
    std::vector<std::pair<std::string, Instance>> out;
    for (const auto& r : records_)
        if (r.reg.type == type && r.state == State::Ok) out.emplace_back(r.reg.id, r.instance);
    return out;
}

std::string Registry::render_plugin_defaults(const config::Config* effective) const {
    std::lock_guard lk(mu_);
    std::ostringstream out;
    for (const auto& r : records_) {
        if (r.reg.type == kSharedObjectType) continue;
        toml::table section;
        try {
            section = toml::parse(r.reg.default_config);
        } catch (const toml::parse_error&) {
            // A plugin with a broken default is shown without one rather than hiding others.
        }
        if (effective != nullptr && effective->plugins)
            if (const toml::table* user = (*effective->plugins)[r.reg.uri()].as_table())
                for (const auto& [k, v] : *user)
                    section.insert_or_assign(k, v);
        if (section.empty()) continue;
        out << "\n[plugins.\"" << r.reg.uri() << "\"]\n" << section << "\n";
    }
    return out.str();
}

} // namespace gantry::plugin
