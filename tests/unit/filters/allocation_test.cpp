// Matching is on every List's hot path: once parsed, a filter must match without allocating,
// including for labels whose key spans several path parts.
#include "core/filters/filter.hpp"

#include <atomic>
#include <cstdlib>
#include <gtest/gtest.h>
#include <map>
#include <new>
#include <string>
#include <vector>

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
} // namespace

// A counting replacement of the global allocator. GCC cannot see that these functions pair up
// and warns about free() on memory from operator new where it inlines them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
#pragma GCC diagnostic pop

namespace gantry::filters {
namespace {

TEST(Allocation, MatchingDoesNotAllocate) {
    // The first alternative fails only at its last selector, so every selector below runs.
    const std::vector<std::string> filters{
        "labels.example.com.long.label.key,annotations.k,name==nope",
        R"(name==docker.io/library/busybox:latest,labels."containerd.io/gc.root"==true,)"
        R"(labels.example.com.long.label.key!=x,annotations.k,target.digest,size!=1,)"
        "name~=busybox,target.mediatype~=index"};
    const auto filter = parse(filters);
    ASSERT_TRUE(filter.ok()) << filter.error().message();

    const std::string name = "docker.io/library/busybox:latest", digest = "sha256:aa",
                      media = "application/vnd.oci.image.index.v1+json";
    const std::map<std::string, std::string> labels{{"containerd.io/gc.root", "true"},
                                                    {"containerd.io/x", ""},
                                                    {"example.com.long.label.key", "y"}};
    const std::map<std::string, std::string> annotations{{"k", "v"}};
    const auto match = [&] {
        FieldsAdaptor a;
        a.add("name", name)
            .add("target.digest", digest)
            .add("target.mediatype", media)
            .add_map("labels", labels)
            .add_map("annotations", annotations);
        return filter->match(a);
    };
    ASSERT_TRUE(match()); // warms the per-thread key buffer and the regexp caches

    allocations = 0;
    counting = true;
    bool matched = true;
    for (int i = 0; i < 100; ++i)
        matched = match() && matched;
    counting = false;
    EXPECT_TRUE(matched);
    EXPECT_EQ(allocations.load(), 0);
}

} // namespace
} // namespace gantry::filters
