// The answer for every method no plugin serves: Unimplemented, naming the method, at once.
// Registered as gRPC's generic fallback, so it also catches services that a later Gantry
// version implements but this build does not.
#pragma once

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/support/server_callback.h>

namespace gantry::services {

class UnimplementedService final : public grpc::CallbackGenericService {
public:
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;
};

} // namespace gantry::services
