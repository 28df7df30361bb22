#include "cmd/gantry/commands.hpp"

#include <iostream>

namespace gantry::cli {
namespace {

// "gantry plugins" for the plugins group's "list": what its usage line starts with.
std::string parent_path(const CLI::App& cmd) {
    std::string path;
    for (const CLI::App* p = cmd.get_parent(); p != nullptr; p = p->get_parent())
        path = p->get_name() + (path.empty() ? "" : " " + path);
    return path;
}

} // namespace

void set_action(CLI::App& cmd, Globals& g, Action action) {
    cmd.callback([&g, action = std::move(action)] { g.action = action; });
}

CLI::App* add_group(CLI::App& parent, Globals& g, std::string name, std::string description) {
    auto* group = parent.add_subcommand(std::move(name), std::move(description));
    // CLI11 runs a subcommand's callback before its parent's, so a chosen subcommand has already
    // set the action by the time this one looks.
    group->callback([&g, group] {
        if (group->get_subcommands().empty())
            g.action = [group] {
                std::cout << group->help(parent_path(*group));
                return 0;
            };
    });
    return group;
}

} // namespace gantry::cli
