// gantry plugins ls: every plugin the daemon registered and whether it started, as ctr shows it.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/table.hpp"
#include "cmd/gantry/tabwriter.hpp"
#include "services/introspection/v1/introspection.grpc.pb.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <set>
#include <vector>

namespace gantry::cli {
namespace {

namespace introspection_v1 = containerd::services::introspection::v1;
using introspection_v1::Plugin;

struct Options {
    std::vector<std::string> filters;
    bool quiet = false;
    bool detailed = false;
};

// The plugin registry's marker for a plugin that chose not to run (containerd's ErrSkipPlugin).
constexpr std::string_view kSkipMarker = "skip plugin";

std::string status_of(const Plugin& p) {
    if (!p.has_init_err()) return "ok";
    return p.init_err().message().find(kSkipMarker) != std::string::npos ? "skip" : "error";
}

// "os/arch[/variant]" per platform, deduplicated, sorted and comma-joined; "unknown" when a
// platform has no OS.
std::string format_platforms(const Plugin& p) {
    std::set<std::string> unique;
    for (const auto& platform : p.platforms()) {
        if (platform.os().empty()) {
            unique.insert("unknown");
            continue;
        }
        std::string s = platform.os();
        for (const auto* part : {&platform.architecture(), &platform.variant()})
            if (!part->empty()) s += "/" + *part;
        unique.insert(std::move(s));
    }
    std::string out;
    for (const auto& s : unique)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

void print_table(const introspection_v1::PluginsResponse& response) {
    Table table({"TYPE", "ID", "PLATFORMS", "STATUS"}, kWideLayout);
    for (const auto& p : response.plugins()) {
        std::string platforms = format_platforms(p);
        table.add_row({p.type(), p.id(), platforms.empty() ? "-" : platforms, status_of(p)});
    }
    table.print(std::cout);
}

// One block per plugin, separated by a blank row; the layout and the spacing after each label
// are ctr's, so the two outputs compare equal.
void print_detailed(const introspection_v1::PluginsResponse& response) {
    std::string text;
    bool first = true;
    for (const auto& p : response.plugins()) {
        if (!first) text += "\t\t\t\n";
        first = false;
        text += "Type:\t " + p.type() + "\n";
        text += "ID:\t " + p.id() + "\n";
        if (!p.requires_().empty()) {
            text += "Requires:\t\n";
            for (const auto& r : p.requires_())
                text += "\t " + r + "\n";
        }
        if (!p.platforms().empty()) text += "Platforms:\t " + format_platforms(p) + "\n";
        if (!p.exports().empty()) {
            text += "Exports:\t\n";
            // Sorted, so that the output is stable from run to run.
            std::vector<std::pair<std::string, std::string>> exports(p.exports().begin(),
                                                                     p.exports().end());
            std::sort(exports.begin(), exports.end());
            for (const auto& [key, value] : exports)
                text += "\t " + key + " \t " + value + "\n";
        }
        if (!p.capabilities().empty()) {
            std::string caps;
            for (const auto& c : p.capabilities())
                caps += (caps.empty() ? "" : ",") + c;
            text += "Capabilities:\t " + caps + "\n";
        }
        if (p.has_init_err()) {
            text += "Error:\t\n";
            text += "\t Code:\t " + std::string(grpc_code_name(p.init_err().code())) + "\n";
            text += "\t Message:\t " + p.init_err().message() + "\n";
        }
    }
    std::cout << align_tabs(text, kWideLayout);
}

Status list_plugins(const Globals& g, const Options& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = introspection_v1::Introspection::NewStub(client.channel());
    introspection_v1::PluginsRequest request;
    for (const auto& f : o.filters)
        request.add_filters(f);
    introspection_v1::PluginsResponse response;
    GANTRY_TRY(client.call(
        [&](grpc::ClientContext* ctx) { return stub->Plugins(ctx, request, &response); }));

    if (o.quiet) {
        for (const auto& p : response.plugins())
            std::cout << p.id() << "\n";
    } else if (o.detailed) {
        print_detailed(response);
    } else {
        print_table(response);
    }
    std::cout << std::flush;
    if (response.plugins().empty() && !o.quiet)
        print_empty(o.filters.empty() ? "plugins" : "plugins match the filters");
    return ok_status();
}

} // namespace

void register_plugins(CLI::App& app, Globals& g) {
    auto* group = add_group(app, g, "plugins", "Provide information about gantryd's plugins");
    group->alias("plugin");

    auto o = std::make_shared<Options>();
    auto* ls = group->add_subcommand("list", "List plugins: type, id, platforms and status");
    ls->alias("ls");
    ls->add_option("filters", o->filters,
                   "Filters on the plugin's type and id, e.g. 'type==io.containerd.snapshotter.v1' "
                   "or 'id~=over'; a plugin is listed if any filter matches")
        ->type_name("FILTER");
    ls->add_flag("-q,--quiet", o->quiet, "Print only the plugin ids");
    ls->add_flag("-d,--detailed", o->detailed,
                 "Print each plugin in full: requirements, platforms, exports, capabilities and "
                 "the error that stopped it (a skipped plugin's reason is its error message)");
    ls->footer("STATUS is ok (initialised), skip (the plugin chose not to run here, e.g. btrfs "
               "on a non-btrfs root) or error (initialisation failed; see -d).");
    set_action(*ls, g, [&g, o] { return finish(list_plugins(g, *o)); });
}

} // namespace gantry::cli
