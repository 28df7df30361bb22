// gantry images mount|unmount: look inside an image, as `ctr images mount` does. mount unpacks
// the image if needed, makes a snapshot keyed by the target directory on the image's top chain
// ID (a view, or with --rw an active snapshot) and mounts it there. A lease named after the
// target (24 h, gc.ref.snapshot label) keeps the snapshot until `unmount --rm`.
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/images_import.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/unpack.hpp"
#include "core/mount/mount.hpp"
#include "services/images/v1/images.grpc.pb.h"
#include "services/leases/v1/leases.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

namespace gantry::cli {
namespace {

namespace imv1 = containerd::services::images::v1;
namespace lsv1 = containerd::services::leases::v1;
namespace snv1 = containerd::services::snapshots::v1;

struct MountOptions {
    std::string ref;
    std::string target;
    std::string snapshotter;
    bool rw = false;
};

struct UnmountOptions {
    std::string target;
    bool rm = false;
    std::string snapshotter;
};

std::string expiry_in_24h() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                               std::chrono::hours(24));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

template <typename Rpc>
Status leased_call(const Client& client, const std::string& lease, Rpc&& rpc) {
    grpc::ClientContext ctx;
    client.prepare(ctx);
    ctx.AddMetadata("containerd-lease", lease);
    return client.check(std::forward<Rpc>(rpc)(&ctx));
}

Status mount_command(const Globals& g, const MountOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(Client client, Client::connect(g));
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::absolute(o.target, ec);
    if (ec || !std::filesystem::is_directory(target))
        return invalid_argument("target " + o.target + " is not a directory");
    GANTRY_ASSIGN_OR_RETURN(const std::string sn, choose_snapshotter(client, o.snapshotter));
    const std::string key = target.string();

    auto leases = lsv1::Leases::NewStub(client.channel());
    lsv1::CreateRequest lreq;
    lreq.set_id(key);
    (*lreq.mutable_labels())["containerd.io/gc.expire"] = expiry_in_24h();
    (*lreq.mutable_labels())["containerd.io/gc.ref.snapshot." + sn] = key;
    lsv1::CreateResponse lresp;
    auto st = client.call([&](grpc::ClientContext* c) { return leases->Create(c, lreq, &lresp); });
    const bool created_lease = st.ok();
    if (!st.ok() && !st.error().is(Errc::AlreadyExists)) return std::move(st).error();
    auto drop_lease = [&] {
        if (!created_lease) return;
        lsv1::DeleteRequest d;
        d.set_id(key);
        google::protobuf::Empty e;
        (void)client.call([&](grpc::ClientContext* c) { return leases->Delete(c, d, &e); });
    };

    auto images = imv1::Images::NewStub(client.channel());
    imv1::GetImageRequest ireq;
    ireq.set_name(o.ref);
    imv1::GetImageResponse iresp;
    st = client.call([&](grpc::ClientContext* c) { return images->Get(c, ireq, &iresp); });
    if (!st.ok()) {
        drop_lease();
        return std::move(st).error();
    }
    oci::Descriptor desc;
    desc.media_type = iresp.image().target().media_type();
    desc.digest = iresp.image().target().digest();
    desc.size = iresp.image().target().size();
    auto rootfs = resolve_rootfs(client, desc);
    if (rootfs.ok()) {
        auto unpacked = unpack(client, key, sn, *rootfs);
        if (!unpacked.ok()) rootfs = std::move(unpacked).error().wrap("error unpacking image");
    }
    if (!rootfs.ok()) {
        drop_lease();
        return std::move(rootfs).error();
    }
    std::cout << rootfs->chain_id() << std::endl;

    auto snaps = snv1::Snapshots::NewStub(client.channel());
    google::protobuf::RepeatedPtrField<containerd::types::Mount> mounts;
    if (o.rw) {
        snv1::PrepareSnapshotRequest req;
        req.set_snapshotter(sn);
        req.set_key(key);
        req.set_parent(rootfs->chain_id());
        snv1::PrepareSnapshotResponse resp;
        st = leased_call(client, key,
                         [&](grpc::ClientContext* c) { return snaps->Prepare(c, req, &resp); });
        mounts = resp.mounts();
    } else {
        snv1::ViewSnapshotRequest req;
        req.set_snapshotter(sn);
        req.set_key(key);
        req.set_parent(rootfs->chain_id());
        snv1::ViewSnapshotResponse resp;
        st = leased_call(client, key,
                         [&](grpc::ClientContext* c) { return snaps->View(c, req, &resp); });
        mounts = resp.mounts();
    }
    if (!st.ok() && st.error().is(Errc::AlreadyExists)) {
        snv1::MountsRequest req;
        req.set_snapshotter(sn);
        req.set_key(key);
        snv1::MountsResponse resp;
        st = client.call([&](grpc::ClientContext* c) { return snaps->Mounts(c, req, &resp); });
        mounts = resp.mounts();
    }
    if (!st.ok()) {
        drop_lease();
        return std::move(st).error();
    }
    std::vector<mount::Mount> ms;
    for (const auto& m : mounts)
        ms.push_back({m.type(), m.source(), m.target(), {m.options().begin(), m.options().end()}});
    if (auto mst = mount::mount_all(ms, target); !mst.ok()) {
        snv1::RemoveSnapshotRequest req;
        req.set_snapshotter(sn);
        req.set_key(key);
        google::protobuf::Empty e;
        (void)client.call([&](grpc::ClientContext* c) { return snaps->Remove(c, req, &e); });
        drop_lease();
        return std::move(mst).error().wrap("mount " + key);
    }
    std::cout << key << std::endl;
    return ok_status();
}

Status unmount_command(const Globals& g, const UnmountOptions& o) {
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::absolute(o.target, ec);
    if (ec) return invalid_argument("bad target " + o.target);
    GANTRY_TRY(mount::unmount_all(target));
    if (o.rm) {
        GANTRY_ASSIGN_OR_RETURN(Client client, Client::connect(g));
        GANTRY_ASSIGN_OR_RETURN(const std::string sn, choose_snapshotter(client, o.snapshotter));
        auto snaps = snv1::Snapshots::NewStub(client.channel());
        snv1::RemoveSnapshotRequest req;
        req.set_snapshotter(sn);
        req.set_key(target.string());
        google::protobuf::Empty e;
        auto st = client.call([&](grpc::ClientContext* c) { return snaps->Remove(c, req, &e); });
        if (!st.ok() && !st.error().is(Errc::NotFound)) return std::move(st).error();
        auto leases = lsv1::Leases::NewStub(client.channel());
        lsv1::DeleteRequest d;
        d.set_id(target.string());
        st = client.call([&](grpc::ClientContext* c) { return leases->Delete(c, d, &e); });
        if (!st.ok() && !st.error().is(Errc::NotFound)) return std::move(st).error();
    }
    std::cout << target.string() << std::endl;
    return ok_status();
}

} // namespace

void register_images_mount(CLI::App& group, Globals& g) {
    auto mo = std::make_shared<MountOptions>();
    auto* mount = group.add_subcommand(
        "mount", "Mount an image's root filesystem on a directory (unpacking it if needed); "
                 "undo with `images unmount`");
    mount->add_option("ref", mo->ref, "Image reference")->required()->type_name("REF");
    mount->add_option("target", mo->target, "Directory to mount on")->required()->type_name("DIR");
    mount->add_flag("--rw", mo->rw, "Mount a writable snapshot instead of a read-only view");
    mount
        ->add_option("--snapshotter", mo->snapshotter,
                     "Snapshotter (default: the namespace's containerd.io/defaults/snapshotter "
                     "label, else overlayfs)")
        ->envname("CONTAINERD_SNAPSHOTTER")
        ->type_name("NAME");
    set_action(*mount, g, [&g, mo] { return finish(mount_command(g, *mo)); });

    auto uo = std::make_shared<UnmountOptions>();
    auto* unmount = group.add_subcommand("unmount", "Unmount an image mounted by `images mount`");
    unmount->alias("umount");
    unmount->add_option("target", uo->target, "The mount directory")->required()->type_name("DIR");
    unmount->add_flag("--rm", uo->rm, "Also remove the snapshot and its lease");
    unmount->add_option("--snapshotter", uo->snapshotter, "Snapshotter the image was mounted from")
        ->envname("CONTAINERD_SNAPSHOTTER")
        ->type_name("NAME");
    set_action(*unmount, g, [&g, uo] { return finish(unmount_command(g, *uo)); });
}

} // namespace gantry::cli
