#include "cmd/gantry/container_user.hpp"

#include "core/mount/mount.hpp"
#include "services/snapshots/v1/snapshots.grpc.pb.h"

#include <sys/stat.h>

namespace gantry::cli {
namespace {

namespace snv1 = containerd::services::snapshots::v1;

// Where the temporary mounts go: private to root, like containerd's temp mount location.
constexpr const char* kTempMountDir = "/run/gantry/tmpmounts";

// The read-only form of a snapshot's mounts (containerd's tryReadonlyMounts, made strict).
std::vector<mount::Mount> read_only(std::vector<mount::Mount> ms) {
    if (ms.size() != 1) return ms;
    mount::Mount& m = ms.front();
    if (m.type == "overlay") {
        std::vector<std::string> layers;
        if (auto upper = mount::option_value(m, "upperdir"); !upper.empty())
            layers.push_back(upper);
        for (auto& l : mount::lowerdirs(m))
            layers.push_back(std::move(l));
        std::vector<std::string> opts;
        for (auto& o : m.options)
            if (!o.starts_with("upperdir=") && !o.starts_with("workdir=") &&
                !o.starts_with("lowerdir=") && o != "rw" && o != "ro")
                opts.push_back(std::move(o));
        if (layers.size() == 1) {
            // One layer: a read-only bind of it is the same tree.
            return {{"bind", layers.front(), "", {"rbind", "ro"}}};
        }
        std::string lower = "lowerdir=";
        for (std::size_t i = 0; i < layers.size(); ++i)
            lower += (i ? ":" : "") + layers[i];
        opts.push_back(std::move(lower));
        opts.push_back("ro");
        m.options = std::move(opts);
    } else if (m.type == "bind" || m.type == "rbind") {
        std::erase(m.options, std::string("rw"));
        m.options.push_back("ro");
    }
    return ms;
}

} // namespace

Result<ProcessUser> user_in_snapshot(const Client& client, const std::string& snapshotter,
                                     const std::string& key, const UserResolver& resolve) {
    auto snaps = snv1::Snapshots::NewStub(client.channel());
    snv1::MountsRequest req;
    req.set_snapshotter(snapshotter);
    req.set_key(key);
    snv1::MountsResponse resp;
    GANTRY_TRY(client.call([&](grpc::ClientContext* c) { return snaps->Mounts(c, req, &resp); }));
    std::vector<mount::Mount> ms;
    for (const auto& m : resp.mounts())
        ms.push_back({m.type(), m.source(), m.target(), {m.options().begin(), m.options().end()}});

    std::error_code ec;
    std::filesystem::create_directories(kTempMountDir, ec);
    if (ec) return from_errno(ec.value(), std::string("create ") + kTempMountDir);
    ::chmod(kTempMountDir, 0700);
    const auto ro = read_only(std::move(ms));
    auto tm = mount::TempMount::create(ro, kTempMountDir);
    if (!tm.ok()) return std::move(tm).error().wrap("mount snapshot " + key);
    // The root fd is closed before the unmount, which it would otherwise keep busy.
    auto user = [&]() -> Result<ProcessUser> {
        GANTRY_ASSIGN_OR_RETURN(const auto root, ContainerRoot::open(tm->path()));
        return resolve(root);
    }();
    if (auto st = tm->release(); !st.ok() && user.ok()) return std::move(st).error();
    return user;
}

} // namespace gantry::cli
