// gantry containers: list, inspect, label and remove container records, with ctr's verbs, flags
// and output (`ls` is byte-identical to ctr's, `info` prints ctr's JSON).
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/go_json.hpp"
#include "cmd/gantry/labels.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/table.hpp"
#include "services/containers/v1/containers.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/tasks/v1/tasks.grpc.pb.h"

#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace gantry::cli {
namespace {

namespace cv1 = containerd::services::containers::v1;
namespace sv1 = containerd::services::snapshots::v1;
namespace tv1 = containerd::services::tasks::v1;
using Json = nlohmann::ordered_json;

constexpr std::string_view kSpecTypePrefix = "types.containerd.io/opencontainers/runtime-spec/";

// containerd's client: ListStream first, List when the server does not stream.
Result<std::vector<cv1::Container>> list_containers(const Client& client,
                                                    const std::vector<std::string>& filters) {
    auto stub = cv1::Containers::NewStub(client.channel());
    cv1::ListContainersRequest request;
    for (const auto& f : filters)
        request.add_filters(f);
    std::vector<cv1::Container> out;
    {
        grpc::ClientContext ctx;
        client.prepare(ctx);
        auto reader = stub->ListStream(&ctx, request);
        cv1::ListContainerMessage msg;
        while (reader->Read(&msg))
            out.push_back(std::move(*msg.mutable_container()));
        const grpc::Status st = reader->Finish();
        if (st.ok()) return out;
        if (st.error_code() != grpc::StatusCode::UNIMPLEMENTED) return client.check(st).error();
    }
    cv1::ListContainersResponse response;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* ctx) { return stub->List(ctx, request, &response); }));
    out.assign(response.containers().begin(), response.containers().end());
    return out;
}

Result<cv1::Container> get_container(const Client& client, const std::string& id) {
    auto stub = cv1::Containers::NewStub(client.channel());
    cv1::GetContainerRequest request;
    request.set_id(id);
    cv1::GetContainerResponse response;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* ctx) { return stub->Get(ctx, request, &response); }));
    return std::move(*response.mutable_container());
}

struct ListOptions {
    bool quiet = false;
    std::vector<std::string> filters;
};

Status list_command(const Globals& g, const ListOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    GANTRY_ASSIGN_OR_RETURN(auto containers, list_containers(client, o.filters));
    if (o.quiet) {
        print_keys(containers, [](const cv1::Container& c) { return c.id(); });
        return ok_status();
    }
    Table table({"CONTAINER", "IMAGE", "RUNTIME"}, kWideLayout);
    for (const auto& c : containers)
        table.add_row({c.id(), c.image().empty() ? "-" : c.image(), c.runtime().name()});
    print_listing(table, "containers", client.ns());
    return ok_status();
}

// A protobuf Any as Go's json writes gogo's types.Any: type_url and value (base64), each omitted
// when empty.
Json any_json(const google::protobuf::Any& any) {
    Json j = Json::object();
    if (!any.type_url().empty()) j["type_url"] = any.type_url();
    if (!any.value().empty()) j["value"] = base64_std(any.value());
    return j;
}

// The spec as ctr decodes it: the JSON of an OCI runtime-spec type URL. nullopt when the
// container has none or it is not such JSON (ctr then prints the Any as it is).
std::optional<Json> decoded_spec(const cv1::Container& c) {
    if (!c.has_spec() || c.spec().value().empty()) return std::nullopt;
    if (!c.spec().type_url().starts_with(kSpecTypePrefix)) return std::nullopt;
    Json spec = Json::parse(c.spec().value(), nullptr, /*allow_exceptions=*/false);
    if (spec.is_discarded()) return std::nullopt;
    return spec;
}

// ctr's containers.Container in JSON: Go field names and order; maps sorted and null when empty
// (as Go decodes an empty protobuf map); a decoded spec moves to the end, as ctr's wrapper
// struct puts it there.
Json info_json(const cv1::Container& c) {
    const auto spec = decoded_spec(c);
    Json j = Json::object();
    j["ID"] = c.id();
    if (c.labels().empty()) {
        j["Labels"] = nullptr;
    } else {
        const std::map<std::string, std::string> sorted(c.labels().begin(), c.labels().end());
        j["Labels"] = Json(sorted);
    }
    j["Image"] = c.image();
    Json runtime = Json::object();
    runtime["Name"] = c.runtime().name();
    runtime["Options"] = c.runtime().has_options() ? any_json(c.runtime().options()) : Json();
    j["Runtime"] = std::move(runtime);
    if (!spec) j["Spec"] = c.has_spec() ? any_json(c.spec()) : Json();
    j["SnapshotKey"] = c.snapshot_key();
    j["Snapshotter"] = c.snapshotter();
    j["CreatedAt"] = go_rfc3339_nano(c.created_at().seconds(), c.created_at().nanos());
    j["UpdatedAt"] = go_rfc3339_nano(c.updated_at().seconds(), c.updated_at().nanos());
    if (c.extensions().empty()) {
        j["Extensions"] = nullptr;
    } else {
        const std::map<std::string, google::protobuf::Any> sorted(c.extensions().begin(),
                                                                  c.extensions().end());
        Json ext = Json::object();
        for (const auto& [name, any] : sorted)
            ext[name] = any_json(any);
        j["Extensions"] = std::move(ext);
    }
    if (spec) j["Spec"] = *spec;
    return j;
}

struct InfoOptions {
    bool spec_only = false;
    std::string id;
};

Status info_command(const Globals& g, const InfoOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    GANTRY_ASSIGN_OR_RETURN(auto c, get_container(client, o.id));
    if (o.spec_only) {
        auto spec = decoded_spec(c);
        if (!spec)
            return invalid_argument("container " + o.id +
                                    " has no OCI runtime spec that can be decoded");
        std::cout << go_json_indent(*spec) << std::endl;
        return ok_status();
    }
    std::cout << go_json_indent(info_json(c)) << std::endl;
    return ok_status();
}

struct LabelOptions {
    std::string id;
    std::vector<std::string> labels;
};

// One Update with a `labels.<key>` path per pair, as ctr: KEY= (no value) clears KEY.
Status label_command(const Globals& g, const LabelOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    if (o.labels.empty()) { // nothing to change: show what there is
        GANTRY_ASSIGN_OR_RETURN(auto c, get_container(client, o.id));
        std::cout << format_labels(c.labels()) << std::endl;
        return ok_status();
    }
    auto stub = cv1::Containers::NewStub(client.channel());
    cv1::UpdateContainerRequest request;
    request.mutable_container()->set_id(o.id);
    for (auto& [key, value] : parse_label_args(o.labels)) {
        (*request.mutable_container()->mutable_labels())[key] = value;
        request.mutable_update_mask()->add_paths("labels." + key);
    }
    cv1::UpdateContainerResponse response;
    GANTRY_TRY(client.call(
        [&](grpc::ClientContext* ctx) { return stub->Update(ctx, request, &response); }));
    std::cout << format_labels(response.container().labels()) << std::endl;
    return ok_status();
}

struct RemoveOptions {
    bool keep_snapshot = false;
    std::vector<std::string> ids;
};

// ctr's deleteContainer: a task that is stopped or only created is deleted first, a live one
// refuses the delete; then the rootfs snapshot (unless kept; NotFound is fine) and the record.
// A Tasks service that is absent or answers NotFound means there is no task.
Status remove_one(const Client& client, const RemoveOptions& o, const std::string& id) {
    GANTRY_ASSIGN_OR_RETURN(auto c, get_container(client, id));
    auto tasks = tv1::Tasks::NewStub(client.channel());
    tv1::GetRequest get;
    get.set_container_id(id);
    tv1::GetResponse task;
    grpc::ClientContext task_ctx;
    client.prepare(task_ctx);
    if (tasks->Get(&task_ctx, get, &task).ok()) {
        const auto status = task.process().status();
        if (status != containerd::v1::types::STOPPED && status != containerd::v1::types::CREATED)
            return failed_precondition("cannot delete a non stopped container: " +
                                       containerd::v1::types::Status_Name(status));
        tv1::DeleteTaskRequest del;
        del.set_container_id(id);
        tv1::DeleteResponse deleted;
        GANTRY_TRY(client.call(
            [&](grpc::ClientContext* ctx) { return tasks->Delete(ctx, del, &deleted); }));
    }
    if (!o.keep_snapshot && !c.snapshot_key().empty()) {
        if (c.snapshotter().empty())
            return invalid_argument("container.Snapshotter must be set to cleanup rootfs snapshot");
        auto snapshots = sv1::Snapshots::NewStub(client.channel());
        sv1::RemoveSnapshotRequest rm;
        rm.set_snapshotter(c.snapshotter());
        rm.set_key(c.snapshot_key());
        google::protobuf::Empty empty;
        auto st = client.call(
            [&](grpc::ClientContext* ctx) { return snapshots->Remove(ctx, rm, &empty); });
        if (!st.ok() && !st.error().is(Errc::NotFound)) return st;
    }
    auto stub = cv1::Containers::NewStub(client.channel());
    cv1::DeleteContainerRequest del;
    del.set_id(id);
    google::protobuf::Empty empty;
    return client.call([&](grpc::ClientContext* ctx) { return stub->Delete(ctx, del, &empty); });
}

// Every id is tried; each failure is reported and the first one sets the exit code. Silent on
// success, as ctr.
int remove_command(const Globals& g, const RemoveOptions& o) {
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    int exit_code = 0;
    for (const auto& id : o.ids) {
        if (auto st = remove_one(*client, o, id); !st.ok())
            exit_code = print_error(st.error().wrap("failed to delete container \"" + id + "\""));
    }
    return exit_code;
}

} // namespace

void register_containers(CLI::App& app, Globals& g) {
    auto* group = add_group(app, g, "containers", "Manage container records");
    group->alias("container")->alias("c");

    auto list_opts = std::make_shared<ListOptions>();
    auto* list = group->add_subcommand("list", "List containers: CONTAINER IMAGE RUNTIME");
    list->alias("ls");
    list->add_flag("-q,--quiet", list_opts->quiet, "Print only the container ids");
    list->add_option("filters", list_opts->filters,
                     "Filters, OR-ed, on id, image, runtime.name, labels.<key>")
        ->type_name("FILTER");
    set_action(*list, g, [&g, list_opts] { return finish(list_command(g, *list_opts)); });

    auto info_opts = std::make_shared<InfoOptions>();
    auto* info = group->add_subcommand(
        "info", "Show a container as JSON, its OCI runtime spec decoded (as ctr)");
    info->add_flag("--spec", info_opts->spec_only, "Print only the OCI runtime spec");
    info->add_option("id", info_opts->id, "Container id")->required()->type_name("CONTAINER");
    set_action(*info, g, [&g, info_opts] { return finish(info_command(g, *info_opts)); });

    auto label_opts = std::make_shared<LabelOptions>();
    auto* label = group->add_subcommand("label", "Set and clear labels of a container");
    label->add_option("id", label_opts->id, "Container id")->required()->type_name("CONTAINER");
    label
        ->add_option("labels", label_opts->labels,
                     "Labels as KEY=VALUE to set; KEY= (empty value) clears KEY; a bare KEY "
                     "means KEY=true")
        ->type_name("KEY=VALUE");
    set_action(*label, g, [&g, label_opts] { return finish(label_command(g, *label_opts)); });

    auto rm_opts = std::make_shared<RemoveOptions>();
    auto* rm = group->add_subcommand(
        "delete", "Remove one or more containers, with their rootfs snapshots (as ctr)");
    rm->alias("del")->alias("remove")->alias("rm");
    rm->add_flag("--keep-snapshot", rm_opts->keep_snapshot, "Keep the container's rootfs snapshot");
    rm->add_option("ids", rm_opts->ids, "Container ids")->required()->type_name("CONTAINER");
    set_action(*rm, g, [&g, rm_opts] { return remove_command(g, *rm_opts); });
}

} // namespace gantry::cli
