// Task tests run once per shim: containerd's own (io.containerd.runc.v2) and Gantry's
// (io.containerd.gantry.v2, containerd-shim-gantry-v2 found beside gantryd).
#pragma once

#include <gtest/gtest.h>
#include <string>

namespace gantry::itest {

inline std::string shim_test_name(const ::testing::TestParamInfo<std::string>& info) {
    return info.param == "io.containerd.runc.v2" ? "RuncShim" : "GantryShim";
}

} // namespace gantry::itest

// Instantiates the parameterized suite `Suite` as Shims/<test>/RuncShim and .../GantryShim.
#define GANTRY_INSTANTIATE_FOR_BOTH_SHIMS(Suite)                                                   \
    INSTANTIATE_TEST_SUITE_P(Shims, Suite,                                                         \
                             ::testing::Values(std::string("io.containerd.runc.v2"),               \
                                               std::string("io.containerd.gantry.v2")),            \
                             ::gantry::itest::shim_test_name)
