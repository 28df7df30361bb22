#include "core/events/exchange.hpp"
#include "events/container.pb.h"
#include "events/image.pb.h"
#include "events/namespace.pb.h"
#include "events/task.pb.h"

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <thread>

namespace gantry::events {
namespace {

using namespace std::chrono_literals;
namespace imv1 = containerd::services::images::v1;

imv1::ImageCreate image_create(const std::string& name,
                               std::map<std::string, std::string> labels = {}) {
    imv1::ImageCreate ev;
    ev.set_name(name);
    ev.mutable_labels()->insert(labels.begin(), labels.end());
    return ev;
}

// Everything currently queued for `sub` (waits briefly for the first).
std::vector<Envelope> drain(Subscription& sub) {
    std::vector<Envelope> out;
    auto timeout = 200ms;
    while (true) {
        auto n = sub.next(timeout);
        if (!n.ok() || !n->has_value()) break;
        out.push_back(**n);
        timeout = 0ms;
    }
    return out;
}

Subscription must_subscribe(Exchange& ex, std::vector<std::string> filters) {
    auto sub = ex.subscribe(filters);
    EXPECT_TRUE(sub.ok()) << sub.error().message();
    return std::move(sub).value();
}

TEST(Exchange, FansOutToEverySubscriberWithEnvelopeFields) {
    auto ex = Exchange::create();
    auto a = must_subscribe(*ex, {});
    auto b = must_subscribe(*ex, {});
    auto c = must_subscribe(*ex, {});
    const auto before = std::chrono::system_clock::now();
    ASSERT_TRUE(ex->publish("default", "/images/create", image_create("x")).ok());
    for (auto* s : {&a, &b, &c}) {
        auto got = drain(*s);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].namespace_(), "default");
        EXPECT_EQ(got[0].topic(), "/images/create");
        EXPECT_EQ(got[0].event().type_url(), "containerd.services.images.v1.ImageCreate");
        imv1::ImageCreate decoded;
        ASSERT_TRUE(decoded.ParseFromString(got[0].event().value()));
        EXPECT_EQ(decoded.name(), "x");
        EXPECT_GE(
            got[0].timestamp().seconds(),
            std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count() -
                1);
    }
}

TEST(Exchange, FiltersOnTopicNamespaceAndEventFields) {
    auto ex = Exchange::create();
    auto by_topic = must_subscribe(*ex, {"topic==\"/images/delete\""});
    auto by_ns = must_subscribe(*ex, {"namespace==other"});
    auto by_name = must_subscribe(*ex, {"event.name==wanted"});
    auto by_label = must_subscribe(*ex, {"event.labels.\"a/b\"==c"});
    auto by_regexp = must_subscribe(*ex, {"topic~=/images/,namespace!=other"});
    auto either = must_subscribe(*ex, {"namespace==other", "event.name==wanted"});
    auto nested = must_subscribe(*ex, {"event.runtime.name==io.containerd.runc.v2"});
    auto terminal = must_subscribe(*ex, {"event.io.terminal==true"});

    ASSERT_TRUE(ex->publish("default", "/images/create", image_create("wanted")).ok());
    ASSERT_TRUE(ex->publish("other", "/images/create", image_create("x", {{"a/b", "c"}})).ok());
    imv1::ImageDelete del;
    del.set_name("gone");
    ASSERT_TRUE(ex->publish("default", "/images/delete", del).ok());
    containerd::events::ContainerCreate cc;
    cc.set_id("c1");
    cc.mutable_runtime()->set_name("io.containerd.runc.v2");
    ASSERT_TRUE(ex->publish("default", "/containers/create", cc).ok());
    containerd::events::TaskCreate tc;
    tc.set_container_id("c1");
    tc.mutable_io()->set_terminal(true);
    ASSERT_TRUE(ex->publish("default", "/tasks/create", tc).ok());

    auto topics = [](const std::vector<Envelope>& es) {
        std::vector<std::string> t;
        for (const auto& e : es)
            t.push_back(e.namespace_() + e.topic());
        return t;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(topics(drain(by_topic)), V{"default/images/delete"});
    EXPECT_EQ(topics(drain(by_ns)), V{"other/images/create"});
    EXPECT_EQ(topics(drain(by_name)), V{"default/images/create"});
    EXPECT_EQ(topics(drain(by_label)), V{"other/images/create"});
    EXPECT_EQ(topics(drain(by_regexp)), (V{"default/images/create", "default/images/delete"}));
    EXPECT_EQ(topics(drain(either)), (V{"default/images/create", "other/images/create"}));
    EXPECT_EQ(topics(drain(nested)), V{"default/containers/create"});
    EXPECT_EQ(topics(drain(terminal)), V{"default/tasks/create"});
}

TEST(Exchange, BadFilterIsInvalidArgument) {
    auto ex = Exchange::create();
    std::vector<std::string> bad{"topic==/x"};
    auto sub = ex->subscribe(bad);
    ASSERT_FALSE(sub.ok());
    EXPECT_EQ(sub.error().code(), Errc::InvalidArgument);
}

TEST(Exchange, SlowSubscriberIsDroppedWithoutBlockingOthers) {
    auto ex = Exchange::create(Exchange::Options{.queue_limit = 8});
    auto slow = must_subscribe(*ex, {});
    auto fast = must_subscribe(*ex, {});
    std::atomic<int> received{0};
    std::thread reader([&] {
        while (received < 100) {
            auto n = fast.next(1000ms);
            if (!n.ok() || !n->has_value()) return;
            ++received;
        }
    });
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(ex->publish("default", "/images/create", image_create("x")).ok());
        // Let the fast reader keep up; the slow one never reads.
        while (received < i + 1 - 4 && std::chrono::steady_clock::now() - start < 5s)
            std::this_thread::yield();
    }
    reader.join();
    EXPECT_EQ(received.load(), 100);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    auto first = slow.next(0ms);
    ASSERT_FALSE(first.ok());
    EXPECT_EQ(first.error().code(), Errc::FailedPrecondition);
    EXPECT_NE(first.error().message().find("fell behind"), std::string::npos);
}

TEST(Exchange, PublisherNeverWaitsForAReader) {
    auto ex = Exchange::create(Exchange::Options{.queue_limit = 100000});
    auto never_read = must_subscribe(*ex, {});
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20000; ++i)
        ASSERT_TRUE(ex->publish("default", "/images/create", image_create("x")).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(drain(never_read).size(), 20000u);
}

TEST(Exchange, ForwardValidatesEnvelope) {
    auto ex = Exchange::create();
    auto sub = must_subscribe(*ex, {});
    Envelope good;
    good.set_namespace_("ns1");
    good.set_topic("/tasks/exit");
    good.mutable_timestamp()->set_seconds(1700000000);
    good.mutable_event()->set_type_url("containerd.events.TaskExit");
    ASSERT_TRUE(ex->forward(good).ok());
    auto got = drain(sub);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].timestamp().seconds(), 1700000000); // kept as sent

    auto expect_invalid = [&](Envelope e, std::string_view needle) {
        auto st = ex->forward(std::move(e));
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code(), Errc::InvalidArgument);
        EXPECT_NE(st.error().message().find(needle), std::string::npos) << st.error().message();
    };
    Envelope e = good;
    e.set_namespace_("");
    expect_invalid(e, "invalid namespace");
    e = good;
    e.set_namespace_("bad ns");
    expect_invalid(e, "invalid namespace");
    e = good;
    e.clear_timestamp();
    expect_invalid(e, "timestamp must be set");
    e = good;
    e.mutable_timestamp()->set_seconds(-62135596800);
    expect_invalid(e, "timestamp must be set");
    for (const char* topic : {"", "tasks/exit", "/", "/tasks//exit", "/tasks/ex it"}) {
        e = good;
        e.set_topic(topic);
        expect_invalid(e, "envelope topic");
    }
    EXPECT_TRUE(drain(sub).empty());
}

TEST(Exchange, PublishValidatesNamespaceAndTopic) {
    auto ex = Exchange::create();
    EXPECT_EQ(ex->publish("", "/images/create", image_create("x")).error().code(),
              Errc::InvalidArgument);
    EXPECT_EQ(ex->publish("default", "images", image_create("x")).error().code(),
              Errc::InvalidArgument);
}

TEST(Exchange, SubscriptionEndsOnDestructionCloseAndCloseAll) {
    auto ex = Exchange::create();
    {
        auto sub = must_subscribe(*ex, {});
        EXPECT_EQ(ex->subscriber_count(), 1u);
    }
    EXPECT_EQ(ex->subscriber_count(), 0u);

    auto sub = must_subscribe(*ex, {});
    std::thread closer([&] {
        std::this_thread::sleep_for(50ms);
        sub.close();
    });
    auto n = sub.next(10s);
    closer.join();
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().code(), Errc::Canceled);

    auto other = must_subscribe(*ex, {});
    ex->close_all();
    auto m = other.next(10s);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code(), Errc::Canceled);
}

TEST(Exchange, PluginInstanceCastsToPublisher) {
    // The plugin stores shared_ptr<Publisher> as void; consumers static_pointer_cast it back.
    std::shared_ptr<Publisher> pub = Exchange::create();
    std::shared_ptr<void> erased = pub;
    auto back = std::static_pointer_cast<Publisher>(erased);
    auto ex = std::static_pointer_cast<Exchange>(back);
    auto sub = must_subscribe(*ex, {});
    ASSERT_TRUE(
        back->publish("default", "/namespaces/create", containerd::events::NamespaceCreate()).ok());
    EXPECT_EQ(drain(sub).size(), 1u);
}

} // namespace
} // namespace gantry::events
