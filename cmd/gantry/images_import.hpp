// `gantry images import`: what `ctr images import` does, client side (protocol-facts.md §11.2).
#pragma once

#include "cmd/gantry/commands.hpp"

namespace gantry::cli {

// Adds `import` to the `images` group.
void register_images_import(CLI::App& images_group, Globals& g);
// Adds `mount` and `unmount` (images_mount.cpp).
void register_images_mount(CLI::App& images_group, Globals& g);

} // namespace gantry::cli
