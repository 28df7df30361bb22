#include "services/unimplemented_service.hpp"

#include <string>

namespace gantry::services {

namespace {

class Reply final : public grpc::ServerGenericBidiReactor {
public:
    explicit Reply(const std::string& method) {
        // containerd's NotImplemented class text, so Go clients classify it the same way.
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            method + " is not implemented by gantryd yet: not implemented"));
    }
    void OnDone() override { delete this; }
};

} // namespace

grpc::ServerGenericBidiReactor*
UnimplementedService::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
    return new Reply(ctx->method());
}

} // namespace gantry::services
