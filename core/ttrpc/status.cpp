#include "core/ttrpc/status.hpp"

#include <strings.h>

namespace gantry::ttrpc {

std::optional<std::string_view> metadata_get(const Metadata& md, std::string_view key) {
    for (const auto& [k, v] : md) {
        if (k.size() == key.size() && ::strncasecmp(k.data(), key.data(), k.size()) == 0)
            return std::string_view(v);
    }
    return std::nullopt;
}

google::rpc::Status to_status(const Error& e) {
    google::rpc::Status s;
    s.set_code(static_cast<int>(e.code()));
    s.set_message(e.wire_message());
    return s;
}

Error from_status(const google::rpc::Status& s) {
    int code = s.code();
    Errc c = (code >= 1 && code <= 15) ? static_cast<Errc>(code) : Errc::Unknown;
    return {c, s.message()};
}

} // namespace gantry::ttrpc
