// gantry snapshots: ctr's snapshot verbs (ls, tree, info, usage, prepare, view, commit, mounts,
// rm, label) with its output, plus `prune`, which removes backend snapshots, directories and
// mounts that no namespace's metadata names (the Cleanup RPC; --dry-run lists them through
// gantry's SnapshotsAdmin.ListOrphans).
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/labels.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/snapshot_text.hpp"
#include "cmd/gantry/table.hpp"
#include "gantry/admin/v1/snapshots.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <set>
#include <vector>

namespace gantry::cli {
namespace {

namespace sv1 = containerd::services::snapshots::v1;
namespace admin = gantry::admin::v1;

struct Options {
    std::string snapshotter = default_snapshotter();
};

SnapshotRow row_of(const sv1::Info& i) {
    SnapshotRow r;
    r.name = i.name();
    r.parent = i.parent();
    r.kind = static_cast<int>(i.kind());
    r.created_seconds = i.created_at().seconds();
    r.created_nanos = i.created_at().nanos();
    r.updated_seconds = i.updated_at().seconds();
    r.updated_nanos = i.updated_at().nanos();
    r.labels.insert(i.labels().begin(), i.labels().end());
    return r;
}

std::vector<MountLine>
lines_of(const google::protobuf::RepeatedPtrField<containerd::types::Mount>& ms) {
    std::vector<MountLine> out;
    for (const auto& m : ms)
        out.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
    return out;
}

// As ctr: the gc.root label keeps what the command makes from garbage collection.
std::string gc_root_now() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Result<std::vector<SnapshotRow>> walk(const Client& client, const std::string& snapshotter) {
    auto stub = sv1::Snapshots::NewStub(client.channel());
    sv1::ListSnapshotsRequest req;
    req.set_snapshotter(snapshotter);
    grpc::ClientContext ctx;
    client.prepare(ctx);
    auto reader = stub->List(&ctx, req);
    sv1::ListSnapshotsResponse resp;
    std::vector<SnapshotRow> rows;
    while (reader->Read(&resp))
        for (const auto& i : resp.info())
            rows.push_back(row_of(i));
    GANTRY_TRY(client.check(reader->Finish()));
    return rows;
}

Status list(const Globals& g, const Options& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    GANTRY_ASSIGN_OR_RETURN(auto rows, walk(client, o.snapshotter));
    Table table({"KEY", "PARENT", "KIND"}, kNarrowLayout);
    for (const auto& r : rows)
        table.add_row({r.name, r.parent, std::string(kind_string(r.kind))});
    print_listing(table, "snapshots", client.ns());
    return ok_status();
}

Status tree(const Globals& g, const Options& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    GANTRY_ASSIGN_OR_RETURN(auto rows, walk(client, o.snapshotter));
    std::cout << render_tree(rows) << std::flush;
    return ok_status();
}

Status info(const Globals& g, const Options& o, const std::string& key) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = sv1::Snapshots::NewStub(client.channel());
    sv1::StatSnapshotRequest req;
    req.set_snapshotter(o.snapshotter);
    req.set_key(key);
    sv1::StatSnapshotResponse resp;
    GANTRY_TRY(client.call([&](grpc::ClientContext* ctx) { return stub->Stat(ctx, req, &resp); }));
    std::cout << info_json(row_of(resp.info())) << std::flush;
    return ok_status();
}

struct UsageOptions {
    bool bytes = false;
    std::vector<std::string> keys;
};

Status usage(const Globals& g, const Options& o, const UsageOptions& u) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = sv1::Snapshots::NewStub(client.channel());
    std::vector<std::string> keys = u.keys;
    if (keys.empty()) {
        GANTRY_ASSIGN_OR_RETURN(auto rows, walk(client, o.snapshotter));
        for (const auto& r : rows)
            keys.push_back(r.name);
    }
    Table table({"KEY", "SIZE", "INODES"}, kNarrowLayout);
    for (const auto& key : keys) {
        sv1::UsageRequest req;
        req.set_snapshotter(o.snapshotter);
        req.set_key(key);
        sv1::UsageResponse resp;
        GANTRY_TRY(
            client.call([&](grpc::ClientContext* ctx) { return stub->Usage(ctx, req, &resp); }));
        table.add_row({key, u.bytes ? std::to_string(resp.size()) : display_size(resp.size()),
                       std::to_string(resp.inodes())});
    }
    table.print(std::cout);
    std::cout << std::flush;
    return ok_status();
}

struct CreateOptions {
    std::string target;
    std::string key;
    std::string parent;
};

Status prepare(const Globals& g, const Options& o, const CreateOptions& c, bool view) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = sv1::Snapshots::NewStub(client.channel());
    google::protobuf::RepeatedPtrField<containerd::types::Mount> mounts;
    if (view) {
        sv1::ViewSnapshotRequest req;
        req.set_snapshotter(o.snapshotter);
        req.set_key(c.key);
        req.set_parent(c.parent);
        // Unlike ctr, a view is a GC root too: otherwise the next collection removes it.
        (*req.mutable_labels())["containerd.io/gc.root"] = gc_root_now();
        sv1::ViewSnapshotResponse resp;
        GANTRY_TRY(
            client.call([&](grpc::ClientContext* ctx) { return stub->View(ctx, req, &resp); }));
        mounts = resp.mounts();
    } else {
        sv1::PrepareSnapshotRequest req;
        req.set_snapshotter(o.snapshotter);
        req.set_key(c.key);
        req.set_parent(c.parent);
        (*req.mutable_labels())["containerd.io/gc.root"] = gc_root_now();
        sv1::PrepareSnapshotResponse resp;
        GANTRY_TRY(
            client.call([&](grpc::ClientContext* ctx) { return stub->Prepare(ctx, req, &resp); }));
        mounts = resp.mounts();
    }
    if (!c.target.empty()) std::cout << mount_commands(c.target, lines_of(mounts)) << std::flush;
    return ok_status();
}

Status commit(const Globals& g, const Options& o, const std::string& name, const std::string& key) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = sv1::Snapshots::NewStub(client.channel());
    sv1::CommitSnapshotRequest req;
    req.set_snapshotter(o.snapshotter);
    req.set_name(name);
    req.set_key(key);
    (*req.mutable_labels())["containerd.io/gc.root"] = gc_root_now();
    google::protobuf::Empty resp;
    return client.call([&](grpc::ClientContext* ctx) { return stub->Commit(ctx, req, &resp); });
}

Status mounts(const Globals& g, const Options& o, const std::string& target,
              const std::string& key) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = sv1::Snapshots::NewStub(client.channel());
    sv1::MountsRequest req;
    req.set_snapshotter(o.snapshotter);
    req.set_key(key);
    sv1::MountsResponse resp;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* ctx) { return stub->Mounts(ctx, req, &resp); }));
    std::cout << mount_commands(target, lines_of(resp.mounts())) << std::flush;
    return ok_status();
}

// As ctr: stops at the first failure.
Status remove(const Globals& g, const Options& o, const std::vector<std::string>& keys) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = sv1::Snapshots::NewStub(client.channel());
    for (const auto& key : keys) {
        sv1::RemoveSnapshotRequest req;
        req.set_snapshotter(o.snapshotter);
        req.set_key(key);
        google::protobuf::Empty resp;
        auto st =
            client.call([&](grpc::ClientContext* ctx) { return stub->Remove(ctx, req, &resp); });
        if (!st.ok()) return std::move(st).error().wrap("failed to remove \"" + key + "\"");
    }
    return ok_status();
}

struct LabelOptions {
    std::string key;
    std::vector<std::string> labels;
};

// One Update with a `labels.<k>` path per pair (an empty value clears); prints the labels after.
Status label(const Globals& g, const Options& o, const LabelOptions& l) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = sv1::Snapshots::NewStub(client.channel());
    sv1::Info result;
    const auto pairs = parse_label_args(l.labels);
    if (pairs.empty()) {
        sv1::StatSnapshotRequest req;
        req.set_snapshotter(o.snapshotter);
        req.set_key(l.key);
        sv1::StatSnapshotResponse resp;
        GANTRY_TRY(
            client.call([&](grpc::ClientContext* ctx) { return stub->Stat(ctx, req, &resp); }));
        result = resp.info();
    } else {
        sv1::UpdateSnapshotRequest req;
        req.set_snapshotter(o.snapshotter);
        req.mutable_info()->set_name(l.key);
        for (const auto& [k, v] : pairs) {
            if (!v.empty()) (*req.mutable_info()->mutable_labels())[k] = v;
            req.mutable_update_mask()->add_paths("labels." + k);
        }
        sv1::UpdateSnapshotResponse resp;
        GANTRY_TRY(
            client.call([&](grpc::ClientContext* ctx) { return stub->Update(ctx, req, &resp); }));
        result = resp.info();
    }
    std::cout << format_labels(result.labels()) << std::endl;
    return ok_status();
}

Result<std::vector<std::string>> orphans(const Client& client, const std::string& snapshotter) {
    auto stub = admin::SnapshotsAdmin::NewStub(client.channel());
    admin::ListOrphansRequest req;
    req.set_snapshotter(snapshotter);
    admin::ListOrphansResponse resp;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* ctx) { return stub->ListOrphans(ctx, req, &resp); }));
    return std::vector<std::string>(resp.keys().begin(), resp.keys().end());
}

// Lists the orphans, then (without --dry-run) has the daemon remove them with Cleanup, which
// also lets the snapshotter delete directories and mounts no snapshot owns; prints what went.
Status prune(const Globals& g, const Options& o, bool dry_run) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    GANTRY_ASSIGN_OR_RETURN(auto before, orphans(client, o.snapshotter));
    if (dry_run) {
        for (const auto& k : before)
            std::cout << "would remove " << k << "\n";
        std::cout << before.size() << " snapshot(s) would be removed from " << o.snapshotter
                  << ", then its unreferenced directories and mounts" << std::endl;
        return ok_status();
    }
    auto stub = containerd::services::snapshots::v1::Snapshots::NewStub(client.channel());
    sv1::CleanupRequest req;
    req.set_snapshotter(o.snapshotter);
    google::protobuf::Empty resp;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* ctx) { return stub->Cleanup(ctx, req, &resp); }));
    GANTRY_ASSIGN_OR_RETURN(auto after, orphans(client, o.snapshotter));
    const std::set<std::string> left(after.begin(), after.end());
    std::size_t n = 0;
    for (const auto& k : before)
        if (!left.count(k)) {
            std::cout << "removed " << k << "\n";
            ++n;
        }
    std::cout << n << " snapshot(s) removed from " << o.snapshotter << std::endl;
    return ok_status();
}

} // namespace

void register_snapshots(CLI::App& app, Globals& g) {
    auto* group = add_group(app, g, "snapshots", "Manage snapshots");
    group->alias("snapshot")->alias("sn");
    auto o = std::make_shared<Options>();
    group
        ->add_option("--snapshotter", o->snapshotter,
                     "Snapshotter to use ($GANTRY_SNAPSHOTTER, $CONTAINERD_SNAPSHOTTER, or "
                     "overlayfs)")
        ->capture_default_str();
    const auto sub = [&](const std::string& name, const std::string& help) {
        auto* c = group->add_subcommand(name, help);
        c->fallthrough(); // --snapshotter also after the verb
        return c;
    };

    auto* ls = sub("list", "List snapshots: KEY PARENT KIND");
    ls->alias("ls");
    set_action(*ls, g, [&g, o] { return finish(list(g, *o)); });

    auto* tr = sub("tree", "Show the snapshots as a tree of parents and children");
    set_action(*tr, g, [&g, o] { return finish(tree(g, *o)); });

    auto info_key = std::make_shared<std::string>();
    auto* in = sub("info", "Show a snapshot as JSON");
    in->add_option("key", *info_key, "Snapshot key")->required();
    set_action(*in, g, [&g, o, info_key] { return finish(info(g, *o, *info_key)); });

    auto u = std::make_shared<UsageOptions>();
    auto* us = sub("usage", "Disk usage of snapshots (all without keys)");
    us->add_flag("--b", u->bytes, "Display size in bytes");
    us->add_option("keys", u->keys, "Snapshot keys")->type_name("KEY");
    set_action(*us, g, [&g, o, u] { return finish(usage(g, *o, *u)); });

    for (bool view : {false, true}) {
        auto c = std::make_shared<CreateOptions>();
        auto* cmd = sub(view ? "view" : "prepare",
                        view ? "Create a read-only snapshot of a committed snapshot"
                             : "Prepare an active snapshot, on a committed parent if given");
        cmd->add_option("-t,--target", c->target, "Print the mount commands for this target");
        cmd->add_option("key", c->key, "Snapshot key")->required();
        cmd->add_option("parent", c->parent, "Committed parent");
        set_action(*cmd, g, [&g, o, c, view] { return finish(prepare(g, *o, *c, view)); });
    }

    auto names = std::make_shared<std::pair<std::string, std::string>>();
    auto* cm = sub("commit", "Commit an active snapshot under a name");
    cm->add_option("name", names->first, "Name of the committed snapshot")->required();
    cm->add_option("key", names->second, "Active snapshot to commit")->required();
    set_action(*cm, g,
               [&g, o, names] { return finish(commit(g, *o, names->first, names->second)); });

    auto mt = std::make_shared<std::pair<std::string, std::string>>();
    auto* mo = sub("mounts", "Print the mount commands for a snapshot");
    mo->alias("m")->alias("mount");
    mo->add_option("target", mt->first, "Mount target path")->required();
    mo->add_option("key", mt->second, "Snapshot key")->required();
    set_action(*mo, g, [&g, o, mt] { return finish(mounts(g, *o, mt->first, mt->second)); });

    auto keys = std::make_shared<std::vector<std::string>>();
    auto* rm = sub("delete", "Remove snapshots (their data goes at the next garbage collection)");
    rm->alias("del")->alias("remove")->alias("rm");
    rm->add_option("keys", *keys, "Snapshot keys")->required()->type_name("KEY");
    set_action(*rm, g, [&g, o, keys] { return finish(remove(g, *o, *keys)); });

    auto l = std::make_shared<LabelOptions>();
    auto* lb = sub("label", "Set and clear labels of a snapshot; prints its labels");
    lb->add_option("key", l->key, "Snapshot key")->required();
    lb->add_option("labels", l->labels, "KEY=VALUE to set, KEY= to clear")->type_name("KEY=VALUE");
    set_action(*lb, g, [&g, o, l] { return finish(label(g, *o, *l)); });

    auto dry = std::make_shared<bool>(false);
    auto* pr = sub("prune", "Remove backend snapshots, directories and mounts that no namespace's "
                            "metadata references");
    pr->add_flag("--dry-run", *dry, "Only list what would be removed");
    set_action(*pr, g, [&g, o, dry] { return finish(prune(g, *o, *dry)); });
}

} // namespace gantry::cli
