// gantry images: list, check, remove, label and tag images, with ctr's verbs, flags and output.
// `import` is registered by images_import.cpp (see register_images below).
#include "cmd/gantry/client.hpp"
#include "cmd/gantry/commands.hpp"
#include "cmd/gantry/images_import.hpp"
#include "cmd/gantry/labels.hpp"
#include "cmd/gantry/output.hpp"
#include "cmd/gantry/table.hpp"
#include "services/content/v1/content.grpc.pb.h"
#include "services/images/v1/images.grpc.pb.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <vector>

namespace gantry::cli {
namespace {

namespace imv1 = containerd::services::images::v1;
namespace ctv1 = containerd::services::content::v1;

// ctr's progress.Bytes: "%02.1f %s" in powers of 1024.
std::string human_bytes(std::int64_t n) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(n);
    std::size_t i = 0;
    while (v >= 1024.0 && i + 1 < std::size(units)) {
        v /= 1024.0;
        ++i;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02.1f %s", v, units[i]);
    return buf;
}

// Reads a whole blob through Content.Read; nullopt when content cannot be read (not there, or
// no content service).
std::optional<std::string> read_blob(const Client& client, ctv1::Content::Stub& stub,
                                     const std::string& digest) {
    grpc::ClientContext ctx;
    client.prepare(ctx);
    ctv1::ReadContentRequest req;
    req.set_digest(digest);
    auto reader = stub.Read(&ctx, req);
    ctv1::ReadContentResponse chunk;
    std::string data;
    while (reader->Read(&chunk))
        data += chunk.data();
    if (!reader->Finish().ok()) return std::nullopt;
    return data;
}

constexpr std::string_view kIndexTypes[] = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"};
constexpr std::string_view kManifestTypes[] = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json"};

bool is_one_of(std::string_view mt, std::span<const std::string_view> set) {
    for (auto s : set)
        if (s == mt) return true;
    return false;
}

// The host platform as containerd's platforms.Default() names it.
std::string host_platform() {
#if defined(__x86_64__)
    return "linux/amd64";
#elif defined(__aarch64__)
    return "linux/arm64";
#else
    return "linux";
#endif
}

std::string platform_of(const nlohmann::json& p) {
    std::string s = p.value("os", "") + "/" + p.value("architecture", "");
    if (auto v = p.value("variant", ""); !v.empty()) s += "/" + v;
    return s;
}

// SIZE and PLATFORMS of ctr's listing: the bytes of the target, the host platform's manifest, its
// config and layers; the platforms the index lists, or the manifest's config's. nullopt when a
// blob cannot be read (as ctr, which then logs and prints "0.0 B"/"-", we print "-").
struct SizeAndPlatforms {
    std::optional<std::int64_t> size;
    std::string platforms = "-";
};

SizeAndPlatforms describe(const Client& client, ctv1::Content::Stub& stub,
                          const imv1::Image& image) {
    SizeAndPlatforms out;
    try {
        const auto& t = image.target();
        auto manifest_size = [&](const std::string& digest, std::int64_t own,
                                 std::string* platform) -> std::optional<std::int64_t> {
            auto blob = read_blob(client, stub, digest);
            if (!blob) return std::nullopt;
            auto m = nlohmann::json::parse(*blob);
            std::int64_t total = own + m["config"].value("size", std::int64_t{0});
            for (const auto& l : m.value("layers", nlohmann::json::array()))
                total += l.value("size", std::int64_t{0});
            if (platform != nullptr) {
                auto cfg = read_blob(client, stub, m["config"].value("digest", ""));
                if (cfg) *platform = platform_of(nlohmann::json::parse(*cfg));
            }
            return total;
        };
        if (is_one_of(t.media_type(), kManifestTypes)) {
            std::string platform;
            out.size = manifest_size(t.digest(), t.size(), &platform);
            if (!platform.empty()) out.platforms = platform;
        } else if (is_one_of(t.media_type(), kIndexTypes)) {
            auto blob = read_blob(client, stub, t.digest());
            if (!blob) return out;
            auto idx = nlohmann::json::parse(*blob);
            std::set<std::string> ps;
            std::int64_t total = t.size();
            bool have = false;
            for (const auto& m : idx.value("manifests", nlohmann::json::array())) {
                if (!m.contains("platform")) continue;
                const std::string p = platform_of(m["platform"]);
                ps.insert(p);
                if (!have && (p == host_platform() || p.starts_with(host_platform() + "/"))) {
                    auto s = manifest_size(m.value("digest", ""), m.value("size", std::int64_t{0}),
                                           nullptr);
                    if (s) {
                        total += *s;
                        have = true;
                    }
                }
            }
            if (have) out.size = total;
            if (!ps.empty()) {
                out.platforms.clear();
                for (const auto& p : ps)
                    out.platforms += (out.platforms.empty() ? "" : ",") + p;
            }
        }
    } catch (const std::exception&) {
        // A blob that is not the JSON its media type promises: nothing to say about it.
    }
    return out;
}

Result<std::vector<imv1::Image>> list_images(const Client& client,
                                             const std::vector<std::string>& filters) {
    auto stub = imv1::Images::NewStub(client.channel());
    imv1::ListImagesRequest request;
    for (const auto& f : filters)
        request.add_filters(f);
    imv1::ListImagesResponse response;
    GANTRY_TRY(
        client.call([&](grpc::ClientContext* ctx) { return stub->List(ctx, request, &response); }));
    return std::vector<imv1::Image>(response.images().begin(), response.images().end());
}

struct ListOptions {
    bool quiet = false;
    std::vector<std::string> filters;
};

Status list_command(const Globals& g, const ListOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    GANTRY_ASSIGN_OR_RETURN(auto images, list_images(client, o.filters));
    if (o.quiet) {
        print_keys(images, [](const imv1::Image& i) { return i.name(); });
        return ok_status();
    }
    auto content = ctv1::Content::NewStub(client.channel());
    Table table({"REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"}, kNarrowLayout);
    for (const auto& img : images) {
        auto d = describe(client, *content, img);
        table.add_row({img.name(), img.target().media_type(), img.target().digest(),
                       d.size ? human_bytes(*d.size) : "-", d.platforms,
                       format_labels(img.labels(), "-")});
    }
    print_listing(table, "images", client.ns());
    return ok_status();
}

// ctr's check: whether each image's content is all present. We report "complete" when every
// blob the host platform needs can be read, "incomplete" otherwise.
Status check_command(const Globals& g, const ListOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    GANTRY_ASSIGN_OR_RETURN(auto images, list_images(client, o.filters));
    auto content = ctv1::Content::NewStub(client.channel());
    Table table({"REF", "TYPE", "DIGEST", "STATUS", "SIZE"}, kNarrowLayout);
    for (const auto& img : images) {
        auto d = describe(client, *content, img);
        const bool complete = d.size.has_value();
        if (o.quiet) {
            if (complete) std::cout << img.name() << "\n";
            continue;
        }
        table.add_row({img.name(), img.target().media_type(), img.target().digest(),
                       complete ? "complete" : "incomplete", d.size ? human_bytes(*d.size) : "-"});
    }
    if (!o.quiet) {
        table.print(std::cout);
        if (table.empty()) print_empty("images", client.ns());
    }
    std::cout << std::flush;
    return ok_status();
}

struct RemoveOptions {
    bool sync = false;
    std::vector<std::string> refs;
};

// As ctr: every ref is tried; a missing one is a warning; the first failure sets the exit code.
// With --sync, the last delete waits for garbage collection.
int remove_command(const Globals& g, const RemoveOptions& o) {
    auto client = Client::connect(g);
    if (!client.ok()) return print_error(client.error());
    auto stub = imv1::Images::NewStub(client->channel());
    int exit_code = 0;
    for (std::size_t i = 0; i < o.refs.size(); ++i) {
        imv1::DeleteImageRequest request;
        request.set_name(o.refs[i]);
        request.set_sync(o.sync && i + 1 == o.refs.size());
        google::protobuf::Empty response;
        auto st = client->call(
            [&](grpc::ClientContext* ctx) { return stub->Delete(ctx, request, &response); });
        if (st.ok()) {
            std::cout << o.refs[i] << std::endl;
        } else if (st.error().is(Errc::NotFound)) {
            std::cerr << "gantry: " << o.refs[i] << ": image not found\n";
        } else {
            exit_code = print_error(st.error().wrap("unable to delete " + o.refs[i]));
        }
    }
    return exit_code;
}

struct LabelOptions {
    bool replace_all = false;
    std::string name;
    std::vector<std::string> labels;
};

Status label_command(const Globals& g, const LabelOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = imv1::Images::NewStub(client.channel());
    imv1::UpdateImageRequest request;
    request.mutable_image()->set_name(o.name);
    for (auto& [key, value] : parse_label_args(o.labels)) {
        if (!value.empty()) (*request.mutable_image()->mutable_labels())[key] = value;
        if (!o.replace_all) request.mutable_update_mask()->add_paths("labels." + key);
    }
    if (o.replace_all) request.mutable_update_mask()->add_paths("labels");
    imv1::UpdateImageResponse response;
    GANTRY_TRY(client.call(
        [&](grpc::ClientContext* ctx) { return stub->Update(ctx, request, &response); }));
    std::cout << format_labels(response.image().labels()) << std::endl;
    return ok_status();
}

struct TagOptions {
    bool force = false;
    std::string source;
    std::vector<std::string> targets;
};

Status tag_command(const Globals& g, const TagOptions& o) {
    GANTRY_ASSIGN_OR_RETURN(const auto client, Client::connect(g));
    auto stub = imv1::Images::NewStub(client.channel());
    imv1::GetImageRequest get;
    get.set_name(o.source);
    imv1::GetImageResponse source;
    GANTRY_TRY(client.call([&](grpc::ClientContext* ctx) { return stub->Get(ctx, get, &source); }));
    for (const auto& target : o.targets) {
        imv1::CreateImageRequest create;
        *create.mutable_image() = source.image();
        create.mutable_image()->set_name(target);
        create.mutable_image()->clear_created_at();
        create.mutable_image()->clear_updated_at();
        imv1::CreateImageResponse created;
        auto do_create = [&] {
            return client.call(
                [&](grpc::ClientContext* ctx) { return stub->Create(ctx, create, &created); });
        };
        auto st = do_create();
        if (!st.ok() && st.error().is(Errc::AlreadyExists) && o.force) {
            imv1::DeleteImageRequest del;
            del.set_name(target);
            google::protobuf::Empty empty;
            GANTRY_TRY(client.call(
                [&](grpc::ClientContext* ctx) { return stub->Delete(ctx, del, &empty); }));
            st = do_create();
        }
        GANTRY_TRY(std::move(st));
        std::cout << target << std::endl;
    }
    return ok_status();
}

} // namespace

void register_images(CLI::App& app, Globals& g) {
    auto* group = add_group(app, g, "images", "Manage images");
    group->alias("image")->alias("i");

    auto list_opts = std::make_shared<ListOptions>();
    auto* list = group->add_subcommand(
        "list", "List images: REF TYPE DIGEST SIZE PLATFORMS LABELS (SIZE and PLATFORMS read "
                "the image's content; \"-\" when it is not available)");
    list->alias("ls");
    list->add_flag("-q,--quiet", list_opts->quiet, "Print only the image refs");
    list->add_option("filters", list_opts->filters,
                     "Filters, OR-ed, on name, target.digest, target.mediatype, labels.<key>, "
                     "annotations.<key>")
        ->type_name("FILTER");
    set_action(*list, g, [&g, list_opts] { return finish(list_command(g, *list_opts)); });

    auto check_opts = std::make_shared<ListOptions>();
    auto* check = group->add_subcommand(
        "check", "Check that the content of images (for this platform) is available locally");
    check->add_flag("-q,--quiet", check_opts->quiet, "Print only the refs of complete images");
    check->add_option("filters", check_opts->filters, "Filters, as for list")->type_name("FILTER");
    set_action(*check, g, [&g, check_opts] { return finish(check_command(g, *check_opts)); });

    auto rm_opts = std::make_shared<RemoveOptions>();
    auto* rm = group->add_subcommand("delete", "Remove one or more images by reference");
    rm->alias("del")->alias("remove")->alias("rm");
    rm->add_flag("--sync", rm_opts->sync,
                 "Wait until garbage collection has removed what the images alone referenced");
    rm->add_option("refs", rm_opts->refs, "Image references")->required()->type_name("REF");
    set_action(*rm, g, [&g, rm_opts] { return remove_command(g, *rm_opts); });

    auto label_opts = std::make_shared<LabelOptions>();
    auto* label = group->add_subcommand("label", "Set and clear labels of an image");
    label->add_flag("-r,--replace-all", label_opts->replace_all,
                    "Replace all labels with the ones given");
    label->add_option("name", label_opts->name, "Image reference")->required()->type_name("REF");
    label
        ->add_option("labels", label_opts->labels,
                     "Labels as KEY=VALUE to set; KEY= (empty value) clears KEY; a bare KEY "
                     "means KEY=true")
        ->type_name("KEY=VALUE");
    set_action(*label, g, [&g, label_opts] { return finish(label_command(g, *label_opts)); });

    auto tag_opts = std::make_shared<TagOptions>();
    auto* tag = group->add_subcommand("tag", "Create new references for an existing image");
    tag->add_flag("--force", tag_opts->force, "Replace a target reference that already exists");
    tag->add_option("source", tag_opts->source, "Existing image reference")
        ->required()
        ->type_name("SOURCE_REF");
    tag->add_option("targets", tag_opts->targets, "New references")
        ->required()
        ->type_name("TARGET_REF");
    set_action(*tag, g, [&g, tag_opts] { return finish(tag_command(g, *tag_opts)); });

    register_images_import(*group, g);
    register_images_mount(*group, g);
}

} // namespace gantry::cli
