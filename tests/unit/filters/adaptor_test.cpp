// The adaptors List implementations build their objects' views from.
#include "core/filters/adaptor.hpp"
#include "core/filters/filter.hpp"

#include <gtest/gtest.h>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace gantry::filters {
namespace {

using Path = std::vector<std::string>;

std::optional<std::string_view> get(const Adaptor& a, const Path& path) {
    return a.field(path);
}

TEST(MapField, JoinsTheRemainingPartsWithDots) {
    const std::map<std::string, std::string> labels{{"a.b.c", "1"}, {"a", "2"}, {"", "3"}};
    EXPECT_EQ(map_field(labels, Path{"a", "b", "c"}), "1");
    EXPECT_EQ(map_field(labels, Path{"a.b", "c"}), "1");
    EXPECT_EQ(map_field(labels, Path{"a"}), "2");
    EXPECT_EQ(map_field(labels, Path{}), "3");
    EXPECT_EQ(map_field(labels, Path{"a", "b"}), std::nullopt);
}

TEST(MapField, EmptyMapIsAbsentAndEmptyValueIsPresent) {
    const std::unordered_map<std::string, std::string> none;
    EXPECT_EQ(map_field(none, Path{"x"}), std::nullopt);
    EXPECT_EQ(map_field(none, Path{}), std::nullopt);
    const std::unordered_map<std::string, std::string> some{{"x", ""}};
    EXPECT_EQ(map_field(some, Path{"x"}), "");
}

TEST(FieldsAdaptor, PresenceOfEmptyPlainFields) {
    FieldsAdaptor a;
    a.add("name", "").add("parent", "", Presence::always).add("kind", "active");
    EXPECT_EQ(get(a, {"name"}), std::nullopt);
    EXPECT_EQ(get(a, {"parent"}), "");
    EXPECT_EQ(get(a, {"kind"}), "active");
    EXPECT_EQ(get(a, {"missing"}), std::nullopt);
}

TEST(FieldsAdaptor, DottedPathsAndTrailingParts) {
    FieldsAdaptor a;
    a.add("target.digest", "sha256:x").add("runtime.name", "runc");
    EXPECT_EQ(get(a, {"target", "digest"}), "sha256:x");
    EXPECT_EQ(get(a, {"target", "digest", "extra"}), "sha256:x");
    EXPECT_EQ(get(a, {"target"}), std::nullopt);
    EXPECT_EQ(get(a, {"target.digest"}), std::nullopt); // one quoted part is not two parts
    EXPECT_EQ(get(a, {"runtime", "name"}), "runc");
    EXPECT_EQ(get(a, {"runtime", "other"}), std::nullopt);
}

TEST(FieldsAdaptor, FirstMatchingEntryAnswersEvenWhenAbsent) {
    const std::map<std::string, std::string> labels;
    FieldsAdaptor a;
    a.add_map("labels", labels).add("labels.x", "shadowed");
    EXPECT_EQ(get(a, {"labels", "x"}), std::nullopt);
}

TEST(FieldsAdaptor, NestedAdaptorGetsTheRestOfThePath) {
    FieldsAdaptor inner;
    inner.add("container_id", "c1").add("io.terminal", "false", Presence::always);
    FieldsAdaptor outer;
    outer.add("topic", "/tasks/create").add_nested("event", inner);
    EXPECT_EQ(get(outer, {"event", "container_id"}), "c1");
    EXPECT_EQ(get(outer, {"event", "io", "terminal"}), "false");
    EXPECT_EQ(get(outer, {"event"}), std::nullopt);
    EXPECT_EQ(get(outer, {"event", "id"}), std::nullopt);
}

TEST(FieldsAdaptor, ManyEntriesSpillPastTheInlineOnes) {
    std::vector<std::string> names, values;
    for (int i = 0; i < 20; ++i) {
        names.push_back("f" + std::to_string(i));
        values.push_back("v" + std::to_string(i));
    }
    FieldsAdaptor a;
    for (int i = 0; i < 20; ++i)
        a.add(names[i], values[i]);
    const FieldsAdaptor copy = a;
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(get(a, {names[i]}), values[i]);
        EXPECT_EQ(get(copy, {names[i]}), values[i]);
    }
}

// Views of temporaries would dangle before the match, so they do not compile.
template <typename V>
concept AddableValue = requires(FieldsAdaptor& a) {
    a.add("x", std::declval<V>());
};
template <typename M>
concept AddableMap = requires(FieldsAdaptor& a) {
    a.add_map("labels", std::declval<M>());
};
template <typename N>
concept AddableNested = requires(FieldsAdaptor& a) {
    a.add_nested("event", std::declval<N>());
};
static_assert(AddableValue<const std::string&>);
static_assert(AddableValue<const char (&)[8]>);
static_assert(AddableValue<std::string_view>);
static_assert(!AddableValue<std::string>);
static_assert(AddableMap<const std::map<std::string, std::string>&>);
static_assert(!AddableMap<std::map<std::string, std::string>>);
static_assert(AddableNested<const FieldsAdaptor&>);
static_assert(!AddableNested<FieldsAdaptor>);

TEST(FunctionAdaptor, WrapsACallable) {
    const std::string digest = "sha256:abc";
    const auto a = adapt([&](std::span<const std::string> path) -> std::optional<std::string_view> {
        if (path.size() == 1 && path[0] == "digest") return digest;
        return std::nullopt;
    });
    const std::vector<std::string> yes{"digest==sha256:abc"}, no{"digest==other"};
    EXPECT_TRUE(parse(yes)->match(a));
    EXPECT_FALSE(parse(no)->match(a));
}

TEST(Filter, CopiesShareCompiledRegexps) {
    const std::vector<std::string> f{"name~=^a+$"};
    const auto parsed = parse(f);
    ASSERT_TRUE(parsed.ok());
    const Filter copy = *parsed;
    FieldsAdaptor a;
    a.add("name", "aaa");
    EXPECT_TRUE(copy.match(a));
    EXPECT_TRUE(parsed->match(a));
}

} // namespace
} // namespace gantry::filters
