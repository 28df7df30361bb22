// gantry leases: list, create and remove leases, with ctr's verbs, flags and output.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/duration.hpp"
#include "cmd/gantry/labels.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/table.hpp"
#include "services/leases/v1/leases.grpc.pb.h"

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <span>
#include <vector>

namespace gantry::cli {
namespace {

namespace leases_v1 = containerd::services::leases::v1;

// Go's t.Local().Format(time.RFC3339), as ctr prints CREATED AT: local time, "Z" in UTC.
std::string local_rfc3339(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out = buf;
    long off = tm.tm_gmtoff / 60;
    if (off == 0) return out + "Z";
    const char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, off / 60, off % 60);
    return out + buf;
}

// RFC 3339 in UTC, the form containerd's gc.expire label takes.
std::string utc_rfc3339(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

struct ListOptions {
    bool quiet = false;
    std::vector<std::string> filters;
};

Status list_leases(const Globals& g, const ListOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = leases_v1::Leases::NewStub(client.channel());
    leases_v1::ListRequest request;
    for (const auto& f : o.filters)
        request.add_filters(f);
    leases_v1::ListResponse response;
    auto st =
        client.call([&](grpc::ClientContext* ctx) { return stub->List(ctx, request, &response); });
    if (!st.ok()) return std::move(st).error().wrap("failed to list leases");
    if (o.quiet) {
        print_keys(response.leases(), [](const auto& x) { return x.id(); });
        return ok_status();
    }
    Table table({"ID", "CREATED AT", "LABELS"}, kNarrowLayout);
    for (const auto& l : response.leases())
        table.add_row(
            {l.id(), local_rfc3339(l.created_at().seconds()), format_labels(l.labels(), "-")});
    print_listing(table, "leases", client.ns());
    return ok_status();
}

struct CreateOptions {
    std::string id;
    std::string expires = "24h";
    std::vector<std::string> labels;
};

Status create_lease(const Globals& g, const CreateOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(auto expires, parse_duration(o.expires));
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = leases_v1::Leases::NewStub(client.channel());
    leases_v1::CreateRequest request;
    request.set_id(o.id);
    // As ctr: a bare KEY is an empty value here (not "true").
    for (const auto& arg : o.labels) {
        const auto eq = arg.find('=');
        (*request.mutable_labels())[arg.substr(0, eq)] =
            eq == std::string::npos ? "" : arg.substr(eq + 1);
    }
    if (expires.count() > 0)
        (*request.mutable_labels())["containerd.io/gc.expire"] =
            utc_rfc3339(std::chrono::system_clock::now() +
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(expires));
    leases_v1::CreateResponse response;
    GANTRY_TRY(client.call(
        [&](grpc::ClientContext* ctx) { return stub->Create(ctx, request, &response); }));
    std::cout << response.lease().id() << std::endl;
    return ok_status();
}

struct RemoveOptions {
    bool sync = false;
    std::vector<std::string> ids;
};

// Each id is tried even after a failure (each failure one line, exit code 1). With --sync the
// last one is deleted synchronously, as ctr does: the call returns after a full collection.
int remove_leases(const Globals& g, const RemoveOptions& o) {
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto stub = leases_v1::Leases::NewStub(client->channel());
    int exit_code = 0;
    for (std::size_t i = 0; i < o.ids.size(); ++i) {
        leases_v1::DeleteRequest request;
        request.set_id(o.ids[i]);
        request.set_sync(o.sync && i + 1 == o.ids.size());
        google::protobuf::Empty response;
        auto st = client->call(
            [&](grpc::ClientContext* ctx) { return stub->Delete(ctx, request, &response); });
        if (!st.ok()) {
            exit_code = print_error(st.error().wrap("unable to delete lease " + o.ids[i]));
            continue;
        }
        std::cout << o.ids[i] << std::endl;
    }
    return exit_code;
}

} // namespace

void register_leases(CLI::App& app, Globals& g) {
    auto* group =
        add_group(app, g, "leases", "Manage leases (what keeps content from garbage collection)");
    group->alias("lease");

    auto list_opts = std::make_shared<ListOptions>();
    auto* list = group->add_subcommand("list", "List the leases of the namespace");
    list->alias("ls");
    list->add_flag("-q,--quiet", list_opts->quiet, "Print only the lease ids");
    list->add_option("filters", list_opts->filters,
                     "containerd filters, e.g. id==x or labels.\"containerd.io/gc.expire\"; "
                     "several are OR-ed")
        ->type_name("FILTER");
    set_action(*list, g, [&g, list_opts] { return finish(list_leases(g, *list_opts)); });

    auto create_opts = std::make_shared<CreateOptions>();
    auto* create = group->add_subcommand("create", "Create a lease and print its id");
    create->add_option("--id", create_opts->id, "Lease id; a random one by default")
        ->type_name("ID");
    create
        ->add_option("-x,--expires", create_opts->expires,
                     "Expire the lease this long from now (sets containerd.io/gc.expire); "
                     "0 never expires")
        ->type_name("DURATION")
        ->default_str("24h");
    create->add_option("labels", create_opts->labels, "Labels as KEY=VALUE")
        ->type_name("KEY=VALUE");
    set_action(*create, g, [&g, create_opts] { return finish(create_lease(g, *create_opts)); });

    auto rm_opts = std::make_shared<RemoveOptions>();
    auto* remove =
        group->add_subcommand("remove", "Remove leases; what they held becomes garbage unless "
                                        "something else references it");
    remove->alias("rm")->alias("delete")->alias("del");
    remove->add_flag("--sync", rm_opts->sync,
                     "Wait until garbage collection has removed everything no longer referenced");
    remove->add_option("ids", rm_opts->ids, "Lease ids")->required()->type_name("ID");
    set_action(*remove, g, [&g, rm_opts] { return remove_leases(g, *rm_opts); });
}

} // namespace gantry::cli
