#include "core/plugin/loader.hpp"

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>

namespace gantry::plugin {
namespace {

const std::string kDir = GANTRY_TEST_FIXTURE_DIR;

PluginRecord load_one(const std::string& path) {
    Registry r;
    EXPECT_TRUE(load_file(path, r).ok());
    auto recs = r.records();
    EXPECT_EQ(recs.size(), 1u);
    return recs.empty() ? PluginRecord{} : recs.front();
}

TEST(Loader, GoodPluginRegistersAndInitialises) {
    Registry r;
    ASSERT_TRUE(load_file(kDir + "/good_plugin.so", r).ok());
    auto cfg =
        config::parse_config("[plugins.\"io.gantry.test.v1.good\"]\ngreeting = \"hi\"\n", "t.toml");
    ASSERT_TRUE(cfg.ok());
    ASSERT_TRUE(r.read_configs(*cfg).ok());
    r.init_all(*cfg);
    auto recs = r.records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].reg.uri(), "io.gantry.test.v1.good");
    EXPECT_EQ(recs[0].state, State::Ok) << recs[0].message;
    EXPECT_EQ(recs[0].exports.at("greeting"), "hi");
    EXPECT_EQ(recs[0].source, kDir + "/good_plugin.so");
}

TEST(Loader, AbiMismatchIsRefused) {
    auto rec = load_one(kDir + "/abi_mismatch_plugin.so");
    EXPECT_EQ(rec.reg.type, kSharedObjectType);
    EXPECT_EQ(rec.state, State::Error);
    EXPECT_NE(rec.message.find("ABI version 999"), std::string::npos) << rec.message;
}

TEST(Loader, BuildIdMismatchIsRefused) {
    auto rec = load_one(kDir + "/build_mismatch_plugin.so");
    EXPECT_EQ(rec.state, State::Error);
    EXPECT_NE(rec.message.find("0.0.0-someone-else"), std::string::npos) << rec.message;
}

TEST(Loader, MissingEntrySymbolIsRefused) {
    auto rec = load_one(kDir + "/no_entry_plugin.so");
    EXPECT_EQ(rec.state, State::Error);
    EXPECT_NE(rec.message.find("gantry_plugin_entry"), std::string::npos) << rec.message;
}

TEST(Loader, UndefinedSymbolFailsAtLoadNotLater) {
    auto rec = load_one(kDir + "/undefined_symbol_plugin.so");
    EXPECT_EQ(rec.state, State::Error);
    EXPECT_NE(rec.message.find("undefined symbol"), std::string::npos) << rec.message;
}

TEST(Loader, CorruptFileIsRefused) {
    std::string path = ::testing::TempDir() + "/corrupt_plugin.so";
    {
        std::ofstream out(path, std::ios::binary);
        out << "\x7f"
               "ELF this is not really an ELF file, just garbage bytes";
    }
    auto rec = load_one(path);
    EXPECT_EQ(rec.state, State::Error);
    EXPECT_EQ(rec.reg.id, "corrupt_plugin.so");
    EXPECT_NE(rec.message.find("cannot load shared object"), std::string::npos) << rec.message;
    std::remove(path.c_str());
}

TEST(Loader, DirectoryLoadsEveryFileAndRecordsEachFailure) {
    Registry r;
    ASSERT_TRUE(load_directory(kDir, r).ok());
    auto recs = r.records();
    int ok = 0, failed = 0;
    for (const auto& rec : recs)
        (rec.state == State::Error ? failed : ok)++;
    EXPECT_EQ(ok, 1);     // good_plugin (pending until init; not an error)
    EXPECT_EQ(failed, 4); // abi, build id, no entry, undefined symbol
}

TEST(Loader, UnreadableDirectoryIsAnError) {
    Registry r;
    auto st = load_directory("/nonexistent/gantry/plugins", r);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::NotFound);
    EXPECT_NE(st.error().message().find("/nonexistent/gantry/plugins"), std::string::npos);
}

} // namespace
} // namespace gantry::plugin
