#include "services/introspection/introspection_service.hpp"

#include "core/filters/filter.hpp"
#include "core/fs/atomic_file.hpp"
#include "services/grpc_status.hpp"

#include <mutex>

namespace gantry::services {

namespace intro = containerd::services::introspection::v1;

namespace {

class PluginFields final : public filters::Adaptor {
public:
    explicit PluginFields(const plugin::PluginRecord& r) : r_(r) {}
    std::optional<std::string_view> field(std::span<const std::string> path) const override {
        if (path.size() != 1) return std::nullopt;
        if (path[0] == "type") return r_.reg.type;
        if (path[0] == "id") return r_.reg.id;
        return std::nullopt;
    }

private:
    const plugin::PluginRecord& r_;
};

void fill(const plugin::PluginRecord& r, intro::Plugin* p) {
    p->set_type(r.reg.type);
    p->set_id(r.reg.id);
    for (const auto& t : r.reg.requires_types)
        p->add_requires_(t);
    for (const auto& plat : r.platforms) {
        auto* pl = p->add_platforms();
        auto a = plat.find('/');
        auto b = plat.find('/', a == std::string::npos ? a : a + 1);
        pl->set_os(plat.substr(0, a));
        if (a != std::string::npos) pl->set_architecture(plat.substr(a + 1, b - a - 1));
        if (b != std::string::npos) pl->set_variant(plat.substr(b + 1));
    }
    for (const auto& [k, v] : r.exports)
        (*p->mutable_exports())[k] = v;
    for (const auto& c : r.capabilities)
        p->add_capabilities(c);
    if (r.state == plugin::State::Skipped) {
        // ctr shows "skip" when the message contains "skip plugin", as containerd sends it.
        p->mutable_init_err()->set_code(static_cast<int>(Errc::Unknown));
        p->mutable_init_err()->set_message(r.message + ": skip plugin");
    } else if (r.state == plugin::State::Error) {
        Error e(r.error_code, r.message);
        p->mutable_init_err()->set_code(static_cast<int>(e.code()));
        p->mutable_init_err()->set_message(e.wire_message());
    }
}

} // namespace

IntrospectionService::IntrospectionService(const plugin::Registry& registry, std::string uuid_dir)
    : registry_(registry), uuid_dir_(std::move(uuid_dir)) {}

grpc::Status IntrospectionService::Plugins(grpc::ServerContext*, const intro::PluginsRequest* req,
                                           intro::PluginsResponse* resp) {
    auto filter = filters::parse_range(req->filters());
    if (!filter.ok()) return to_grpc(filter.error());
    for (const auto& r : registry_.records()) {
        if (!filter->match(PluginFields(r))) continue;
        fill(r, resp->add_plugins());
    }
    return grpc::Status::OK;
}

grpc::Status IntrospectionService::Server(grpc::ServerContext*, const google::protobuf::Empty*,
                                          intro::ServerResponse* resp) {
    auto uuid = load_or_create_uuid(uuid_dir_);
    if (!uuid.ok()) return to_grpc(uuid.error());
    resp->set_uuid(*uuid);
    return grpc::Status::OK;
}

Result<std::string> load_or_create_uuid(const std::string& dir) {
    static std::mutex mu; // two first calls must not make two UUIDs
    std::lock_guard lk(mu);
    const std::string path = dir + "/uuid";
    auto existing = fs::read_file(path, 64);
    if (existing.ok()) {
        std::string s = *existing;
        while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
            s.pop_back();
        if (s.size() == 36) return s;
        // A torn or foreign file is replaced rather than served.
    } else if (!existing.error().is(Errc::NotFound)) {
        return std::move(existing).error();
    }
    GANTRY_ASSIGN_OR_RETURN(std::string bytes, fs::random_bytes(16));
    bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40); // version 4
    bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
    static const char* hex = "0123456789abcdef";
    std::string uuid;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) uuid.push_back('-');
        auto b = static_cast<unsigned char>(bytes[i]);
        uuid.push_back(hex[b >> 4]);
        uuid.push_back(hex[b & 15]);
    }
    GANTRY_TRY(fs::mkdir_all(dir, 0711));
    GANTRY_TRY(fs::write_file_atomic(path, uuid, 0644));
    return uuid;
}

} // namespace gantry::services
