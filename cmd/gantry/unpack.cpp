#include "cmd/gantry/unpack.hpp"

#include "services/content/v1/content.grpc.pb.h"
#include "services/diff/v1/diff.grpc.pb.h"
#include "services/namespaces/v1/namespaces.grpc.pb.h"
#include "services/snapshots/v1/snapshots.grpc.pb.h"

#include <chrono>
#include <random>

namespace gantry::cli {
namespace {

namespace content_v1 = containerd::services::content::v1;
namespace diff_v1 = containerd::services::diff::v1;
namespace snapshots_v1 = containerd::services::snapshots::v1;
namespace namespaces_v1 = containerd::services::namespaces::v1;
using json = nlohmann::json;

constexpr std::string_view kSnapshotRefLabel = "containerd.io/snapshot.ref";

Result<json> read_json(const Client& client, const oci::Descriptor& d) {
    GANTRY_ASSIGN_OR_RETURN(std::string bytes, read_blob(client, d.digest));
    try {
        return json::parse(bytes);
    } catch (const std::exception& e) {
        return invalid_argument(d.digest + " (" + d.media_type + "): " + e.what());
    }
}

// "extract-<nanos>-<random> <chain id>", the shape containerd's unpacker uses, so a key left by
// a crash names the layer it was for.
std::string extract_key(const std::string& chain_id) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string rand;
    for (int i = 0; i < 16; ++i)
        rand += kAlphabet[rng() % 64];
    return "extract-" + std::to_string(nanos) + "-" + rand + " " + chain_id;
}

class Unpacker {
public:
    Unpacker(const Client& client, const std::string& lease, const std::string& snapshotter)
        : client_(client), lease_(lease), sn_(snapshotter),
          content_(content_v1::Content::NewStub(client.channel())),
          snapshots_(snapshots_v1::Snapshots::NewStub(client.channel())),
          diff_(diff_v1::Diff::NewStub(client.channel())) {}

    template <typename Rpc>
    Status call(Rpc&& rpc) {
        grpc::ClientContext ctx;
        client_.prepare(ctx);
        if (!lease_.empty()) ctx.AddMetadata("containerd-lease", lease_);
        return client_.check(std::forward<Rpc>(rpc)(&ctx));
    }

    // Whether the committed snapshot `name` exists.
    Result<bool> exists(const std::string& name) {
        snapshots_v1::StatSnapshotRequest req;
        req.set_snapshotter(sn_);
        req.set_key(name);
        snapshots_v1::StatSnapshotResponse resp;
        auto st = call([&](grpc::ClientContext* c) { return snapshots_->Stat(c, req, &resp); });
        if (st.ok()) return true;
        if (st.error().is(Errc::NotFound)) return false;
        return std::move(st).error();
    }

    Status remove(const std::string& key) {
        snapshots_v1::RemoveSnapshotRequest req;
        req.set_snapshotter(sn_);
        req.set_key(key);
        google::protobuf::Empty resp;
        auto st = call([&](grpc::ClientContext* c) { return snapshots_->Remove(c, req, &resp); });
        if (!st.ok() && st.error().is(Errc::NotFound)) return ok_status();
        return st;
    }

    // One layer; `applied` says whether this call did the work (false: someone had it already).
    Status layer(const oci::Descriptor& layer, const std::string& diff_id,
                 const std::string& parent, const std::string& chain_id, bool& applied) {
        applied = false;
        const std::string key = extract_key(chain_id);
        snapshots_v1::PrepareSnapshotRequest prep;
        prep.set_snapshotter(sn_);
        prep.set_key(key);
        prep.set_parent(parent);
        (*prep.mutable_labels())[std::string(kSnapshotRefLabel)] = chain_id;
        snapshots_v1::PrepareSnapshotResponse mounts;
        auto st =
            call([&](grpc::ClientContext* c) { return snapshots_->Prepare(c, prep, &mounts); });
        if (!st.ok()) {
            // The target exists (another unpack won the race, or another namespace shares it).
            if (st.error().is(Errc::AlreadyExists)) return ok_status();
            return std::move(st).error().wrap("prepare " + chain_id);
        }
        auto undo = [&](Error e) -> Status {
            (void)remove(key); // best effort: GC reclaims it otherwise (the lease expires)
            return e;
        };
        diff_v1::ApplyRequest apply;
        auto* d = apply.mutable_diff();
        d->set_media_type(layer.media_type);
        d->set_digest(layer.digest);
        d->set_size(layer.size);
        for (const auto& [k, v] : layer.annotations)
            (*d->mutable_annotations())[k] = v;
        *apply.mutable_mounts() = mounts.mounts();
        diff_v1::ApplyResponse applied_resp;
        st = call([&](grpc::ClientContext* c) { return diff_->Apply(c, apply, &applied_resp); });
        if (!st.ok()) return undo(std::move(st).error().wrap("apply layer " + layer.digest));
        if (applied_resp.applied().digest() != diff_id)
            return undo(failed_precondition("wrong diff id calculated on extraction of " +
                                            layer.digest + ": got " +
                                            applied_resp.applied().digest() + ", want " + diff_id));
        snapshots_v1::CommitSnapshotRequest commit;
        commit.set_snapshotter(sn_);
        commit.set_name(chain_id);
        commit.set_key(key);
        (*commit.mutable_labels())[std::string(kSnapshotRefLabel)] = chain_id;
        google::protobuf::Empty empty;
        st = call([&](grpc::ClientContext* c) { return snapshots_->Commit(c, commit, &empty); });
        if (!st.ok()) {
            if (st.error().is(Errc::AlreadyExists)) {
                (void)remove(key);
                return ok_status();
            }
            return undo(std::move(st).error().wrap("commit " + chain_id));
        }
        applied = true;
        return label(layer.digest, std::string(oci::kUncompressedLabel), diff_id);
    }

    Status label(const std::string& digest, const std::string& key, const std::string& value) {
        content_v1::UpdateRequest req;
        req.mutable_info()->set_digest(digest);
        (*req.mutable_info()->mutable_labels())[key] = value;
        req.mutable_update_mask()->add_paths("labels." + key);
        content_v1::UpdateResponse resp;
        auto st = call([&](grpc::ClientContext* c) { return content_->Update(c, req, &resp); });
        if (!st.ok()) return std::move(st).error().wrap("label " + digest);
        return ok_status();
    }

private:
    const Client& client_;
    const std::string& lease_;
    const std::string& sn_;
    std::unique_ptr<content_v1::Content::Stub> content_;
    std::unique_ptr<snapshots_v1::Snapshots::Stub> snapshots_;
    std::unique_ptr<diff_v1::Diff::Stub> diff_;
};

} // namespace

Result<std::string> read_blob(const Client& client, const std::string& digest, std::int64_t limit) {
    auto stub = content_v1::Content::NewStub(client.channel());
    grpc::ClientContext ctx;
    client.prepare(ctx);
    content_v1::ReadContentRequest req;
    req.set_digest(digest);
    auto reader = stub->Read(&ctx, req);
    content_v1::ReadContentResponse resp;
    std::string out;
    while (reader->Read(&resp)) {
        if (static_cast<std::int64_t>(out.size() + resp.data().size()) > limit) {
            ctx.TryCancel();
            (void)reader->Finish();
            return invalid_argument("blob " + digest + " is larger than " + std::to_string(limit) +
                                    " bytes");
        }
        out += resp.data();
    }
    GANTRY_TRY(client.check(reader->Finish()));
    return out;
}

Result<ImageRootfs> resolve_rootfs(const Client& client, const oci::Descriptor& target) {
    ImageRootfs r;
    oci::Descriptor d = target;
    // An index (possibly nested) down to the manifest for this platform.
    for (int depth = 0; oci::is_index(d.media_type); ++depth) {
        if (depth > 4) return invalid_argument("index nesting too deep at " + d.digest);
        GANTRY_ASSIGN_OR_RETURN(json idx, read_json(client, d));
        std::optional<oci::Descriptor> found;
        for (const auto& m : idx.value("manifests", json::array())) {
            oci::Descriptor c = oci::descriptor_from(m);
            if ((oci::is_manifest(c.media_type) || oci::is_index(c.media_type)) &&
                oci::platform_matches(c)) {
                found = c;
                break;
            }
        }
        if (!found)
            return not_found("no manifest for platform linux/" + oci::host_arch() + " in " +
                             d.digest);
        d = *found;
    }
    if (!oci::is_manifest(d.media_type))
        return invalid_argument("unexpected media type " + d.media_type + " for " + d.digest);
    r.manifest = d;
    GANTRY_ASSIGN_OR_RETURN(json manifest, read_json(client, d));
    if (!manifest.contains("config"))
        return invalid_argument("manifest " + d.digest + " has no config");
    r.config = oci::descriptor_from(manifest["config"]);
    for (const auto& l : manifest.value("layers", json::array())) {
        oci::Descriptor layer = oci::descriptor_from(l);
        if (!oci::is_layer(layer.media_type))
            return invalid_argument("manifest " + d.digest + ": " + layer.media_type +
                                    " is not a layer media type");
        r.layers.push_back(std::move(layer));
    }
    GANTRY_ASSIGN_OR_RETURN(json config, read_json(client, r.config));
    try {
        for (const auto& id : config.at("rootfs").at("diff_ids"))
            r.diff_ids.push_back(id.get<std::string>());
    } catch (const std::exception&) {
        return invalid_argument("config " + r.config.digest + " has no rootfs.diff_ids");
    }
    if (r.diff_ids.size() != r.layers.size())
        return invalid_argument(
            "mismatched image rootfs and manifest layers: " + std::to_string(r.diff_ids.size()) +
            " diff ids, " + std::to_string(r.layers.size()) + " layers");
    r.chain_ids = oci::chain_ids(r.diff_ids);
    return r;
}

Result<std::string> choose_snapshotter(const Client& client, const std::string& flag) {
    if (!flag.empty()) return flag;
    auto stub = namespaces_v1::Namespaces::NewStub(client.channel());
    namespaces_v1::GetNamespaceRequest req;
    req.set_name(client.ns());
    namespaces_v1::GetNamespaceResponse resp;
    auto st = client.call([&](grpc::ClientContext* c) { return stub->Get(c, req, &resp); });
    if (st.ok()) {
        const auto& labels = resp.namespace_().labels();
        if (auto it = labels.find("containerd.io/defaults/snapshotter"); it != labels.end())
            return it->second;
    }
    return std::string("overlayfs");
}

Result<UnpackStats> unpack(const Client& client, const std::string& lease,
                           const std::string& snapshotter, const ImageRootfs& rootfs,
                           const std::function<void(std::string_view)>& progress) {
    Unpacker u(client, lease, snapshotter);
    UnpackStats stats;
    std::string parent;
    for (std::size_t i = 0; i < rootfs.layers.size(); ++i) {
        const std::string& chain = rootfs.chain_ids[i];
        GANTRY_ASSIGN_OR_RETURN(bool present, u.exists(chain));
        bool applied = false;
        if (!present)
            GANTRY_TRY(u.layer(rootfs.layers[i], rootfs.diff_ids[i], parent, chain, applied));
        (applied ? stats.applied : stats.present)++;
        if (progress)
            progress((applied ? "applied " : "present ") + rootfs.layers[i].digest + " " + chain);
        parent = chain;
    }
    if (!rootfs.layers.empty())
        GANTRY_TRY(u.label(rootfs.config.digest, std::string(oci::kSnapshotRefPrefix) + snapshotter,
                           rootfs.chain_id()));
    return stats;
}

} // namespace gantry::cli
