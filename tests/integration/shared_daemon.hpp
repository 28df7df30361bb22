// One gantryd shared by every test of a suite: started before the first test, stopped after
// the last, so a suite pays for one daemon start. CRTP gives each suite its own daemon.
#pragma once

#include "tests/integration/harness.hpp"

#include <gtest/gtest.h>
#include <memory>

namespace gantry::itest {

template <typename Suite>
class SharedDaemonTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { daemon_ = std::make_unique<Daemon>(); }
    static void TearDownTestSuite() { daemon_.reset(); }
    static Daemon& d() { return *daemon_; }

    static inline std::unique_ptr<Daemon> daemon_;
};

} // namespace gantry::itest
