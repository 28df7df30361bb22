#include "core/config/section_reader.hpp"
#include "core/plugin/init_context.hpp"
#include "core/plugin/registry.hpp"

#include <gtest/gtest.h>

namespace gantry::plugin {
namespace {

config::Config test_config() {
    auto cfg = config::parse_config("", "test.toml");
    EXPECT_TRUE(cfg.ok());
    return std::move(cfg).value();
}

Registration reg(std::string type, std::string id, std::vector<std::string> reqs,
                 std::vector<std::string>* log = nullptr) {
    Registration r;
    r.type = std::move(type);
    r.id = std::move(id);
    r.requires_types = std::move(reqs);
    r.init = [log, uri = r.uri()](InitContext&) -> Result<Instance> {
        if (log) log->push_back(uri);
        return Instance(std::make_shared<std::string>(uri));
    };
    return r;
}

const PluginRecord& find(const std::vector<PluginRecord>& recs, const std::string& uri) {
    for (const auto& r : recs)
        if (r.reg.uri() == uri) return r;
    ADD_FAILURE() << "no record " << uri;
    static PluginRecord none;
    return none;
}

TEST(Registry, InitialisesInRequirementOrder) {
    std::vector<std::string> order;
    Registry r;
    r.add(reg("t.c", "c", {"t.b"}, &order), "builtin");
    r.add(reg("t.b", "b", {"t.a"}, &order), "builtin");
    r.add(reg("t.a", "a", {}, &order), "builtin");
    auto cfg = test_config();
    ASSERT_TRUE(r.read_configs(cfg).ok());
    r.init_all(cfg);
    EXPECT_EQ(order, (std::vector<std::string>{"t.a.a", "t.b.b", "t.c.c"}));
    for (const auto& rec : r.records())
        EXPECT_EQ(rec.state, State::Ok) << rec.reg.uri();
}

TEST(Registry, CycleMarksOnlyThePluginsInvolved) {
    std::vector<std::string> order;
    Registry r;
    r.add(reg("t.x", "x", {"t.y"}, &order), "builtin");
    r.add(reg("t.y", "y", {"t.x"}, &order), "builtin");
    r.add(reg("t.free", "free", {}, &order), "builtin");
    auto cfg = test_config();
    r.init_all(cfg);
    auto recs = r.records();
    EXPECT_EQ(find(recs, "t.x.x").state, State::Error);
    EXPECT_EQ(find(recs, "t.y.y").state, State::Error);
    EXPECT_NE(find(recs, "t.x.x").message.find("dependency cycle"), std::string::npos);
    EXPECT_EQ(find(recs, "t.free.free").state, State::Ok);
    EXPECT_EQ(order, (std::vector<std::string>{"t.free.free"}));
}

TEST(Registry, MissingRequirementIsAnErrorOnThatPluginOnly) {
    Registry r;
    r.add(reg("t.needy", "n", {"t.absent"}), "builtin");
    r.add(reg("t.ok", "o", {}), "builtin");
    auto cfg = test_config();
    r.init_all(cfg);
    auto recs = r.records();
    EXPECT_EQ(find(recs, "t.needy.n").state, State::Error);
    EXPECT_NE(find(recs, "t.needy.n").message.find("t.absent"), std::string::npos);
    EXPECT_EQ(find(recs, "t.ok.o").state, State::Ok);
}

TEST(Registry, SkipIsAResultAndPropagatesToDependents) {
    Registry r;
    Registration skipper = reg("t.fs", "btrfs", {});
    skipper.init = [](InitContext& ctx) -> Result<Instance> { return ctx.skip("not on btrfs"); };
    r.add(skipper, "builtin");
    r.add(reg("t.user", "u", {"t.fs"}), "builtin");
    auto cfg = test_config();
    r.init_all(cfg);
    auto recs = r.records();
    EXPECT_EQ(find(recs, "t.fs.btrfs").state, State::Skipped);
    EXPECT_EQ(find(recs, "t.fs.btrfs").message, "not on btrfs");
    EXPECT_EQ(find(recs, "t.user.u").state, State::Skipped);
}

TEST(Registry, InitErrorAndThrowAreRecordedNotFatal) {
    Registry r;
    Registration bad = reg("t.bad", "b", {});
    bad.init = [](InitContext&) -> Result<Instance> { return unavailable("disk on fire"); };
    Registration thrower = reg("t.throw", "t", {});
    thrower.init = [](InitContext&) -> Result<Instance> { throw std::runtime_error("boom"); };
    r.add(bad, "builtin");
    r.add(thrower, "builtin");
    r.add(reg("t.dep", "d", {"t.bad"}), "builtin");
    auto cfg = test_config();
    r.init_all(cfg);
    auto recs = r.records();
    EXPECT_EQ(find(recs, "t.bad.b").state, State::Error);
    EXPECT_EQ(find(recs, "t.bad.b").error_code, Errc::Unavailable);
    EXPECT_EQ(find(recs, "t.throw.t").state, State::Error);
    EXPECT_NE(find(recs, "t.throw.t").message.find("boom"), std::string::npos);
    EXPECT_EQ(find(recs, "t.dep.d").state, State::Error);
}

TEST(Registry, DisabledPluginsAreDroppedAndDependentsReportIt) {
    Registry r;
    r.add(reg("t.a", "a", {}), "builtin");
    r.add(reg("t.b", "b", {"t.a"}), "builtin");
    auto cfg = config::parse_config("disabled_plugins = [\"t.a.a\"]\n", "test.toml");
    ASSERT_TRUE(cfg.ok());
    r.init_all(*cfg);
    auto recs = r.records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].reg.uri(), "t.b.b");
    EXPECT_EQ(recs[0].state, State::Error);
}

TEST(Registry, DuplicateRegistrationIsAnError) {
    Registry r;
    r.add(reg("t.a", "a", {}), "one.so");
    r.add(reg("t.a", "a", {}), "two.so");
    auto cfg = test_config();
    r.init_all(cfg);
    auto recs = r.records();
    ASSERT_EQ(recs.size(), 2u);
    int ok = 0, err = 0;
    for (const auto& rec : recs)
        (rec.state == State::Ok ? ok : err)++;
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(err, 1);
}

TEST(Registry, PluginConfigUnknownKeyNamesFileLineAndKey) {
    Registry r;
    Registration withcfg = reg("t.c", "c", {});
    withcfg.config = [](config::SectionReader& s) -> Result<ConfigPtr> {
        GANTRY_ASSIGN_OR_RETURN(std::int64_t n, s.get_int("size", 1));
        return ConfigPtr(std::make_shared<std::int64_t>(n));
    };
    r.add(withcfg, "builtin");
    auto cfg = config::parse_config("version = 2\n[plugins.\"t.c.c\"]\nsize = 3\nsise = 4\n",
                                    "/etc/g.toml");
    ASSERT_TRUE(cfg.ok());
    auto st = r.read_configs(*cfg);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::InvalidArgument);
    EXPECT_NE(st.error().message().find("/etc/g.toml:4"), std::string::npos)
        << st.error().message();
    EXPECT_NE(st.error().message().find("\"sise\""), std::string::npos);
}

TEST(Registry, PluginWithoutConfigRejectsAnySetting) {
    Registry r;
    r.add(reg("t.n", "n", {}), "builtin");
    auto cfg = config::parse_config("[plugins.\"t.n.n\"]\nx = 1\n", "c.toml");
    ASSERT_TRUE(cfg.ok());
    EXPECT_FALSE(r.read_configs(*cfg).ok());
}

TEST(Registry, DependentSeesItsRequirementInstance) {
    Registry r;
    r.add(reg("t.base", "base", {}), "builtin");
    Registration user = reg("t.user", "u", {"t.base"});
    user.init = [](InitContext& ctx) -> Result<Instance> {
        GANTRY_ASSIGN_OR_RETURN(auto base, ctx.get_as<std::string>("t.base"));
        return Instance(std::make_shared<std::string>("uses " + *base));
    };
    r.add(user, "builtin");
    auto cfg = test_config();
    r.init_all(cfg);
    auto inst = r.find("t.user", "u");
    ASSERT_TRUE(inst.ok());
    EXPECT_EQ(*std::static_pointer_cast<std::string>(*inst), "uses t.base.base");
}

} // namespace
} // namespace gantry::plugin
