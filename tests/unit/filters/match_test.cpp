// Which objects a filter selects, over image-like and event-like objects adapted the way the
// Images List and event subscriptions adapt them. Expected results are the indexes of the
// selected objects.
#include "core/filters/filter.hpp"

#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace gantry::filters {
namespace {

using StringMap = std::map<std::string, std::string>;

struct Image {
    std::string name;
    std::string digest;
    std::string media_type;
    StringMap labels;
    StringMap annotations;

    FieldsAdaptor adaptor() const {
        FieldsAdaptor a;
        a.add("name", name)
            .add("target.digest", digest)
            .add("target.mediatype", media_type)
            .add_map("labels", labels)
            .add_map("annotations", annotations);
        return a;
    }
};

const std::vector<Image>& images() {
    static const std::vector<Image> all{
        {"docker.io/library/busybox:latest",
         "sha256:aaaa",
         "application/vnd.oci.image.index.v1+json",
         {{"containerd.io/gc.root", "true"}, {"env", "prod"}},
         {{"org.opencontainers.image.ref.name", "latest"}}},
        {"docker.io/library/alpine:3.18",
         "sha256:bbbb",
         "application/vnd.docker.distribution.manifest.list.v2+json",
         {{"env", "dev"}, {"a.b", "dotted"}},
         {}},
        {"registry.example.com/team/app:v1",
         "sha256:cccc",
         "application/vnd.oci.image.manifest.v1+json",
         {},
         {{"io.containerd.image.name", "registry.example.com/team/app:v1"}}},
        {"localhost/no-media-type", "sha256:dddd", "", {{"env", ""}}, {}},
        {"docker.io/library/busybox:1.36",
         "sha256:eeee",
         "application/vnd.oci.image.index.v1+json",
         {{"weird key", "x"}, {"quote\"key", "q"}, {"", "empty key"}},
         {}},
    };
    return all;
}

struct Event {
    std::string ns;
    std::string topic;
    // The payload's string fields by proto name, as containerd's generated Field methods expose
    // them; "io.terminal" is always present.
    std::vector<std::pair<std::string, std::string>> fields;
    StringMap labels;
};

const std::vector<Event>& events() {
    static const std::vector<Event> all{
        {"default", "/tasks/exit", {{"container_id", "c1"}, {"id", "c1"}}, {}},
        {"default",
         "/tasks/create",
         {{"container_id", "c2"}, {"bundle", "/run/c2"}, {"io.terminal", "false"}},
         {}},
        {"k8s.io",
         "/containers/create",
         {{"id", "c3"},
          {"image", "docker.io/library/busybox:latest"},
          {"runtime.name", "io.containerd.runc.v2"}},
         {}},
        {"k8s.io", "/images/update", {{"name", "img"}}, {{"a", "b"}}},
        {"", "/tasks/exit", {{"container_id", "c2"}}, {}},
    };
    return all;
}

struct Case {
    std::vector<std::string> filters;
    std::string selected; // indexes, space separated
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
    for (const auto& f : c.filters)
        os << "[" << f << "]";
    return os;
}

template <typename Objects, typename Adapt>
std::string select(const Filter& filter, const Objects& objects, Adapt adapt) {
    std::string out;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        if (!adapt(objects[i], filter)) continue;
        if (!out.empty()) out += ' ';
        out += std::to_string(i);
    }
    return out;
}

class MatchImages : public ::testing::TestWithParam<Case> {};

TEST_P(MatchImages, Selects) {
    const auto filter = parse(GetParam().filters);
    ASSERT_TRUE(filter.ok()) << filter.error().message();
    EXPECT_EQ(select(*filter, images(),
                     [](const Image& img, const Filter& f) { return f.match(img.adaptor()); }),
              GetParam().selected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MatchImages,
    ::testing::Values(
        Case{{}, "0 1 2 3 4"}, Case{{""}, "0 1 2 3 4"}, Case{{"name"}, "0 1 2 3 4"},
        // == and !=
        Case{{"name==docker.io/library/busybox:latest"}, "0"},
        Case{{"name!=docker.io/library/busybox:latest"}, "1 2 3 4"},
        Case{{R"(name=="docker.io/library/alpine:3.18")"}, "1"},
        Case{{"target.digest==sha256:cccc"}, "2"}, Case{{"target.digest!=sha256:cccc"}, "0 1 3 4"},
        // ~= is an unanchored search.
        Case{{"name~=busybox"}, "0 4"}, Case{{"name~=^busybox"}, ""}, Case{{"name~=busybox$"}, ""},
        Case{{"name~=:latest$"}, "0"}, Case{{"target.digest~=cc"}, "2"},
        Case{{"target.mediatype~=oci"}, "0 2 4"}, Case{{R"(name~=\d+\.\d+$)"}, "1 4"},
        Case{{"name~=(?i)BUSYBOX"}, "0 4"}, Case{{R"(name~=".")"}, "0 1 2 3 4"},
        // /…/ and |…| quoting of a regexp; escapes inside are Go string escapes first.
        Case{{R"(name~=/^docker\\.io\//)"}, "0 1 4"},
        Case{{R"(name~=|library/(busybox\|alpine)|)"}, "0 1 4"},
        Case{{"labels.env~=/^(prod|dev)$/"}, "0 1"},
        Case{{R"x(name~="busybox:(latest|1\\.36)")x"}, "0 4"}, Case{{"name~=/a{1,2}l/"}, "1 3"},
        // A plain field that is empty is absent: presence fails, != and ~= read "".
        Case{{"target.mediatype"}, "0 1 2 4"}, Case{{R"(target.mediatype=="")"}, ""},
        Case{{R"(target.mediatype!="")"}, "0 1 2 4"},
        Case{{"target.mediatype!=application/vnd.oci.image.manifest.v1+json"}, "0 1 3 4"},
        Case{{"target.mediatype~=^$"}, "3"},
        // Unknown fields are absent everywhere.
        Case{{"size==1"}, ""}, Case{{"size!=1"}, "0 1 2 3 4"}, Case{{R"(size~=".")"}, ""},
        Case{{"size~=^$"}, "0 1 2 3 4"}, Case{{R"(size~="")"}, "0 1 2 3 4"}, Case{{"target"}, ""},
        Case{{"target!=x"}, "0 1 2 3 4"},
        // Trailing parts after a plain field are ignored, as containerd's adaptors do.
        Case{{"name.extra==docker.io/library/alpine:3.18"}, "1"},
        Case{{"target.digest.x==sha256:bbbb"}, "1"},
        // Labels: present even when the value is empty; keys with dots or slashes.
        Case{{"labels.env"}, "0 1 3"}, Case{{"labels.env==prod"}, "0"},
        Case{{R"(labels.env=="")"}, "3"}, Case{{"labels.env!=prod"}, "1 2 3 4"},
        Case{{R"(labels.env!="")"}, "0 1"}, Case{{"labels.env~=^$"}, "2 3 4"},
        Case{{R"(labels."containerd.io/gc.root")"}, "0"},
        Case{{R"(labels."containerd.io/gc.root"==true)"}, "0"},
        Case{{R"(labels."containerd.io\u002fgc.root"==true)"}, "0"},
        Case{{"labels.a.b==dotted"}, "1"}, Case{{R"(labels."a.b"==dotted)"}, "1"},
        Case{{R"(labels."a".b)"}, "1"}, Case{{"labels.a"}, ""},
        Case{{R"(labels."weird key"==x)"}, "4"}, Case{{R"(labels."quote\"key"==q)"}, "4"},
        // `labels` alone looks up the empty key.
        Case{{"labels"}, "4"}, Case{{R"(labels=="empty key")"}, "4"},
        // Annotations are another map with the same rule.
        Case{{R"(annotations."org.opencontainers.image.ref.name"==latest)"}, "0"},
        Case{{"annotations.org.opencontainers.image.ref.name==latest"}, "0"},
        Case{{R"(annotations."io.containerd.image.name"~=team)"}, "2"}, Case{{"annotations"}, ""},
        // AND within a string, OR across strings.
        Case{{"name~=busybox,labels.env==prod"}, "0"}, Case{{"name~=alpine,labels.env==prod"}, ""},
        Case{{"name~=busybox,target.mediatype~=index,labels.env"}, "0"},
        Case{{"name~=alpine", "labels.env==prod"}, "0 1"}, Case{{"name==nothing", ""}, "0 1 2 3 4"},
        Case{{"name~=busybox,target.mediatype~=index", "labels.a.b"}, "0 1 4"},
        Case{{"name==nothing", "name==nowhere"}, ""},
        // `|` inside a value is part of the value, not an OR.
        Case{{"name==docker.io/library/alpine:3.18|docker.io/library/busybox:latest"}, ""},
        // Escapes in quoted values.
        Case{{R"(name=="docker.io\x2flibrary\u002fbusybox:latest")"}, "0"},
        Case{{R"(name=="docker.io\057library\057alpine:3.18")"}, "1"},
        // Whitespace before tokens.
        Case{{"  name ==  docker.io/library/alpine:3.18,  labels.env"}, "1"},
        // An invalid regexp never matches, including against an absent field.
        Case{{"name~=[unclosed"}, ""}, Case{{"size~=("}, ""}, Case{{R"(name~=\C)"}, ""},
        Case{{"name~=[", "name==docker.io/library/alpine:3.18"}, "1"},
        Case{{"name~=(", ""}, "0 1 2 3 4"}, Case{{"name~=(,name"}, ""}));

// Whitespace ends a value; what follows must be a comma, so these do not parse at all.
TEST(MatchImagesSyntax, WhitespaceInsideAValueIsASyntaxError) {
    for (const char* f : {"  name ==  docker.io/library/alpine:3.18 , labels.env",
                          "labels==empty key", R"(name~=|library/(busybox|alpine)|)"}) {
        const std::vector<std::string> filters{f};
        EXPECT_FALSE(parse(filters).ok()) << f;
    }
}

// Events as the event exchange adapts them: envelope fields plus the decoded payload under
// `event`.
class MatchEvents : public ::testing::TestWithParam<Case> {};

TEST_P(MatchEvents, Selects) {
    const auto filter = parse(GetParam().filters);
    ASSERT_TRUE(filter.ok()) << filter.error().message();
    const auto adapt = [](const Event& ev, const Filter& f) {
        FieldsAdaptor payload;
        for (const auto& [path, value] : ev.fields)
            payload.add(path, value,
                        path == "io.terminal" ? Presence::always : Presence::non_empty);
        payload.add_map("labels", ev.labels);
        FieldsAdaptor envelope;
        envelope.add("namespace", ev.ns).add("topic", ev.topic).add_nested("event", payload);
        return f.match(envelope);
    };
    EXPECT_EQ(select(*filter, events(), adapt), GetParam().selected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MatchEvents,
    ::testing::Values(Case{{}, "0 1 2 3 4"}, Case{{R"(topic=="/tasks/exit")"}, "0 4"},
                      Case{{R"(topic!="/tasks/exit")"}, "1 2 3"},
                      // /…/ is regexp quoting: this searches for "tasks".
                      Case{{"topic~=/tasks/"}, "0 1 4"}, Case{{R"(topic~="^/tasks/")"}, "0 1 4"},
                      Case{{R"(topic~=|^/(tasks\|images)/|)"}, "0 1 3 4"},
                      Case{{"namespace==default"}, "0 1"}, Case{{"namespace"}, "0 1 2 3"},
                      Case{{"namespace!=default"}, "2 3 4"},
                      Case{{"namespace==k8s.io,topic~=/containers/"}, "2"},
                      Case{{"event.container_id==c2"}, "1 4"},
                      Case{{"event.container_id"}, "0 1 4"},
                      Case{{"event.container_id!=c1"}, "1 2 3 4"},
                      Case{{"event.runtime.name==io.containerd.runc.v2"}, "2"},
                      Case{{"event.io.terminal==false"}, "1"}, Case{{"event.labels.a==b"}, "3"},
                      Case{{"event"}, ""}, Case{{R"(event."container_id"~=^c)"}, "0 1 4"},
                      Case{{R"(topic=="/tasks/exit",namespace==default)", "event.id==c3"}, "0 2"},
                      Case{{R"(topic=="/tasks/exit",event.container_id==c2)"}, "4"}));

} // namespace
} // namespace gantry::filters
