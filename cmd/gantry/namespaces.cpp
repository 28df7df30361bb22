// gantry namespaces: create, list, label and remove namespaces, with ctr's verbs and output.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/labels.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/table.hpp"
#include "services/namespaces/v1/namespaces.grpc.pb.h"

#include <iostream>
#include <memory>
#include <span>
#include <vector>

namespace gantry::cli {
namespace {

namespace namespaces_v1 = containerd::services::namespaces::v1;

// NAME followed by KEY=VALUE arguments, as create and label take them.
struct NameAndLabels {
    std::string name;
    std::vector<std::string> labels;
};

Status create_namespace(const Globals& g, const NameAndLabels& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = namespaces_v1::Namespaces::NewStub(client.channel());
    namespaces_v1::CreateNamespaceRequest request;
    request.mutable_namespace_()->set_name(o.name);
    for (auto& [key, value] : parse_label_args(o.labels))
        (*request.mutable_namespace_()->mutable_labels())[key] = value;
    namespaces_v1::CreateNamespaceResponse response;
    return client.call(
        [&](grpc::ClientContext* ctx) { return stub->Create(ctx, request, &response); });
}

// All pairs in one Update, one mask path `labels.<key>` each, so the change is atomic; a pair
// with an empty value is sent without a value, which removes that label.
Status label_namespace(const Globals& g, const NameAndLabels& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = namespaces_v1::Namespaces::NewStub(client.channel());
    namespaces_v1::UpdateNamespaceRequest request;
    request.mutable_namespace_()->set_name(o.name);
    for (auto& [key, value] : parse_label_args(o.labels)) {
        if (!value.empty()) (*request.mutable_namespace_()->mutable_labels())[key] = value;
        request.mutable_update_mask()->add_paths("labels." + key);
    }
    namespaces_v1::UpdateNamespaceResponse response;
    return client.call(
        [&](grpc::ClientContext* ctx) { return stub->Update(ctx, request, &response); });
}

struct ListOptions {
    bool quiet = false;
};

Status list_namespaces(const Globals& g, const ListOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = namespaces_v1::Namespaces::NewStub(client.channel());
    namespaces_v1::ListNamespacesResponse response;
    GANTRY_TRY(client.call([&](grpc::ClientContext* ctx) {
        return stub->List(ctx, namespaces_v1::ListNamespacesRequest{}, &response);
    }));
    if (o.quiet) {
        print_keys(response.namespaces(), [](const auto& x) { return x.name(); });
        return ok_status();
    }
    // List already carries the labels, so unlike ctr no Get per namespace is needed.
    Table table({"NAME", "LABELS"}, kNarrowLayout);
    for (const auto& ns : response.namespaces())
        table.add_row({ns.name(), format_labels(ns.labels())});
    print_listing(table, "namespaces");
    return ok_status();
}

// Each name is tried even after a failure; a removed name is printed, as is one that does not
// exist (removal is idempotent, as in ctr). Failures are reported one line each; exit code 1.
int remove_namespaces(const Globals& g, std::span<const std::string> names) {
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto stub = namespaces_v1::Namespaces::NewStub(client->channel());
    int exit_code = 0;
    for (const auto& name : names) {
        namespaces_v1::DeleteNamespaceRequest request;
        request.set_name(name);
        google::protobuf::Empty response;
        auto status = client->call(
            [&](grpc::ClientContext* ctx) { return stub->Delete(ctx, request, &response); });
        if (!status.ok() && !status.error().is(Errc::NotFound)) {
            exit_code = print_error(status.error().wrap("unable to delete " + name));
            continue;
        }
        if (!status.ok()) // idempotent like ctr, but say so rather than pretend
            std::cerr << "gantry: namespace \"" << name << "\" not found, nothing to remove\n";
        std::cout << name << std::endl;
    }
    return exit_code;
}

void add_name_and_labels(CLI::App& cmd, NameAndLabels& o, std::string labels_help) {
    cmd.add_option("name", o.name, "Namespace name")->required()->type_name("NAME");
    cmd.add_option("labels", o.labels, std::move(labels_help))->type_name("KEY=VALUE");
}

} // namespace

void register_namespaces(CLI::App& app, Globals& g) {
    auto* group = add_group(app, g, "namespaces", "Manage namespaces");
    group->alias("namespace")->alias("ns");

    auto create_opts = std::make_shared<NameAndLabels>();
    auto* create = group->add_subcommand("create", "Create a new namespace; names are unique");
    create->alias("c");
    add_name_and_labels(*create, *create_opts, "Labels as KEY=VALUE; a bare KEY means KEY=true");
    set_action(*create, g, [&g, create_opts] { return finish(create_namespace(g, *create_opts)); });

    auto list_opts = std::make_shared<ListOptions>();
    auto* list = group->add_subcommand("list", "List namespaces and their labels");
    list->alias("ls");
    list->add_flag("-q,--quiet", list_opts->quiet, "Print only the namespace names");
    set_action(*list, g, [&g, list_opts] { return finish(list_namespaces(g, *list_opts)); });

    auto label_opts = std::make_shared<NameAndLabels>();
    auto* label = group->add_subcommand("label", "Set and clear labels of a namespace");
    add_name_and_labels(*label, *label_opts,
                        "Labels as KEY=VALUE to set; KEY= (empty value) clears KEY; a bare KEY "
                        "means KEY=true");
    label->get_option("labels")->required();
    set_action(*label, g, [&g, label_opts] { return finish(label_namespace(g, *label_opts)); });

    auto names = std::make_shared<std::vector<std::string>>();
    auto* remove = group->add_subcommand(
        "remove", "Remove namespaces; a namespace must be empty (no images, blobs, containers "
                  "or snapshots) to be removed");
    remove->alias("rm");
    remove->add_option("names", *names, "Namespaces to remove")->required()->type_name("NAME");
    set_action(*remove, g, [&g, names] { return remove_namespaces(g, *names); });
}

} // namespace gantry::cli
