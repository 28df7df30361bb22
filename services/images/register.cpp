// Registers the Images gRPC service (io.containerd.grpc.v1.images). Its store is the
// io.containerd.service.v1.images-service plugin (plugins/images, a shared object), whose
// instance is a std::shared_ptr<images::Store>.
#include "core/metadata/images.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/types.hpp"
#include "services/grpc_service.hpp"
#include "services/images/images_service.hpp"
#include "services/registrations.hpp"

namespace gantry::services {

void register_images(plugin::Registry& registry) {
    plugin::Registration grpc;
    grpc.type = std::string(plugin::types::kGrpc);
    grpc.id = "images";
    grpc.requires_types = {std::string(plugin::types::kService)};
    grpc.init = [](plugin::InitContext& ctx) -> Result<plugin::Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto inst, ctx.get(plugin::types::kService, "images-service"));
        auto store = std::static_pointer_cast<images::Store>(inst);
        return plugin::Instance(std::make_shared<OwnedService<ImagesService>>(std::move(store)));
    };
    registry.add(std::move(grpc), "builtin");
}

} // namespace gantry::services
