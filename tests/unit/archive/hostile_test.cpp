// The hostile-layer corpus: each layer tries to reach outside the root. Every case must be
// refused with InvalidArgument, or neutralised (landing inside the root) where containerd
// neutralises it, and in both cases a canary directory beside the root must be untouched.
#include "core/archive/apply.hpp"
#include "tar_builder.hpp"

#include <gtest/gtest.h>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace gantry::archive {
namespace {

namespace stdfs = std::filesystem;
using namespace testing;

enum class Expect { Refused, Neutralised };

struct Case {
    std::string name;
    std::function<std::string(const stdfs::path& canary)> layer;
    Expect expect;
    // Extra check on the root for neutralised cases.
    std::function<void(const stdfs::path& root, const stdfs::path& canary)> check = nullptr;
    ApplyOptions options = {};
    Errc code = Errc::InvalidArgument;
    std::string why = ""; // refused: a substring of the error message
};

// Why each refused case must be refused.
const std::map<std::string, std::string>& reasons() {
    static const std::map<std::string, std::string> r = {
        {"dotdot", "escapes the root"},
        {"dotdot_nested", "escapes the root"},
        {"dotdot_dir", "escapes the root"},
        {"absolute", "absolute path"},
        {"absolute_root_etc", "absolute path"},
        {"hardlink_dotdot", "escapes the root"},
        {"hardlink_absolute", "absolute path"},
        {"hardlink_through_symlink", "No such file"},
        {"hardlink_through_dotdot_symlink", "No such file"},
        {"hardlink_to_directory", "not a regular file"},
        {"hardlink_to_root", "points at the root"},
        {"device_node", "device node"},
        {"block_device", "device node"},
        {"whiteout_dotdot", "invalid whiteout name"},
        {"whiteout_dot", "invalid whiteout name"},
        {"whiteout_dotdot_escape", "escapes the root"},
        {"symlink_loop", "symbolic links"},
        {"file_as_parent", "Not a directory"},
        {"long_name", "PATH_MAX"},
        {"long_symlink_target", "too long"},
        {"huge_xattr", "too large"},
        {"negative_size", "negative size"},
        {"huge_size", "larger than the limit"},
        {"bad_checksum", "invalid layer tar"},
        {"truncated_data", "Truncated tar archive"},
        {"truncated_header", "Truncated tar archive"},
        {"garbage", "invalid layer tar"},
        {"entry_over_configured_limit", "larger than the limit"},
        {"too_many_entries", "more than 2 entries"},
    };
    return r;
}

// A listing of everything below `dir` with type, size, mode and link count: any write,
// chmod, link or delete through an escape shows up as a difference.
std::set<std::string> snapshot(const stdfs::path& dir) {
    std::set<std::string> out;
    for (auto& e : stdfs::recursive_directory_iterator(dir)) {
        struct stat st {};
        ::lstat(e.path().c_str(), &st);
        out.insert(e.path().string() + " " + std::to_string(st.st_mode) + " " +
                   std::to_string(st.st_size) + " " + std::to_string(st.st_nlink) + " " +
                   std::to_string(st.st_uid));
    }
    return out;
}

// A file name in the host's /etc that no system uses: cases aimed at /etc write only this,
// and the test fails (and cleans up) if it ever appears there.
const std::string& host_probe_name() {
    static const std::string n = "gantry-hostile-probe-" + std::to_string(::getpid());
    return n;
}

std::string rel(const stdfs::path& p) {
    return p.relative_path().string(); // no leading "/"
}

std::vector<Case> corpus() {
    std::vector<Case> c;
    auto refused = [&](std::string n, std::function<std::string(const stdfs::path&)> l) {
        Case k{n, std::move(l), Expect::Refused};
        k.why = reasons().at(n);
        c.push_back(std::move(k));
    };
    refused("dotdot", [](auto&) { return tar_of({file("../canary/pwned", "x")}); });
    refused("dotdot_nested",
            [](auto&) { return tar_of({file("a/b/../../../canary/pwned", "x")}); });
    refused("dotdot_dir", [](auto&) { return tar_of({dir("../canary/newdir")}); });
    refused("absolute", [](const stdfs::path& canary) {
        return tar_of({file((canary / "pwned").string(), "x")});
    });
    refused("absolute_root_etc",
            [](auto&) { return tar_of({file("/etc/" + host_probe_name(), "x")}); });
    refused("hardlink_dotdot",
            [](auto&) { return tar_of({hardlink("stolen", "../canary/secret")}); });
    refused("hardlink_absolute", [](const stdfs::path& canary) {
        return tar_of({hardlink("stolen", (canary / "secret").string())});
    });
    // The symlink's target resolves inside the root, where the file does not exist.
    refused("hardlink_through_symlink", [](const stdfs::path& canary) {
        return tar_of({symlink("l", canary.string()), hardlink("stolen", "l/secret")});
    });
    refused("hardlink_through_dotdot_symlink", [](auto&) {
        return tar_of({symlink("up", "../canary"), hardlink("stolen", "up/secret")});
    });
    refused("hardlink_to_directory", [](auto&) { return tar_of({dir("d"), hardlink("x", "d")}); });
    refused("hardlink_to_root", [](auto&) { return tar_of({hardlink("x", "./")}); });
    refused("device_node", [](auto&) { return tar_of({node("dev/mem", AE_IFCHR, 1, 1)}); });
    refused("block_device", [](auto&) { return tar_of({node("sda", AE_IFBLK, 8, 0)}); });
    refused("whiteout_dotdot", [](auto&) { return tar_of({file(".wh...", "")}); });
    refused("whiteout_dot", [](auto&) { return tar_of({file("sub/.wh..", "")}); });
    refused("whiteout_dotdot_escape", [](auto&) { return tar_of({file("../.wh.canary", "")}); });
    refused("symlink_loop", [](auto&) {
        return tar_of({symlink("a", "b"), symlink("b", "a"), file("a/x", "x")});
    });
    refused("file_as_parent", [](auto&) { return tar_of({file("f", "x"), file("f/x", "y")}); });
    refused("long_name", [](auto&) { return tar_of({file(std::string(5000, 'a'), "x")}); });
    refused("long_symlink_target",
            [](auto&) { return tar_of({symlink("l", std::string(5000, 'a'))}); });
    refused("huge_xattr", [](auto&) {
        Entry e = file("f", "x");
        e.xattrs = {{"user.big", std::string(100 * 1024, 'x')}};
        return tar_of({e});
    });
    // A size field in base-256 with the sign bit set: a negative size.
    refused("negative_size", [](auto&) {
        std::string size(12, '\xff');
        size[0] = '\xff';
        return raw_header("neg", '0', size) + std::string(1024, '\0');
    });
    // 2^62 bytes: over any limit (and over the stream).
    refused("huge_size", [](auto&) {
        std::string size(12, '\0');
        size[0] = '\x80';
        size[4] = '\x40';
        return raw_header("huge", '0', size) + std::string(1024, '\0');
    });
    refused("bad_checksum", [](auto&) {
        std::string t = tar_of({file("a", "x")});
        t[0] ^= 1;
        return t;
    });
    refused("truncated_data", [](auto&) {
        std::string t = tar_of({file("a", random_bytes(100000))});
        return t.substr(0, 512 + 50000);
    });
    refused("truncated_header", [](auto&) {
        std::string t = tar_of({file("a", "x"), file("b", "y")});
        return t.substr(0, 1024 + 200);
    });
    refused("garbage", [](auto&) { return random_bytes(4096, 3); });

    auto neutralised = [&](std::string n, std::function<std::string(const stdfs::path&)> l,
                           std::function<void(const stdfs::path&, const stdfs::path&)> check) {
        c.push_back({std::move(n), std::move(l), Expect::Neutralised, std::move(check)});
    };
    // foo -> <canary> then foo/pwned: the symlink is resolved inside the root (containerd).
    neutralised(
        "symlink_absolute_then_write",
        [](const stdfs::path& canary) {
            return tar_of({symlink("foo", canary.string()), file("foo/pwned", "x")});
        },
        [](const stdfs::path& root, const stdfs::path& canary) {
            EXPECT_EQ(read_file(root / rel(canary) / "pwned"), "x");
        });
    // foo -> /etc then foo/<name>: lands in <root>/etc. The name is unique and harmless, so
    // that a regression run as root leaves a junk file in the host's /etc (found and removed
    // by the test) instead of overwriting something real like /etc/passwd.
    neutralised(
        "symlink_etc_then_write",
        [](auto&) {
            return tar_of({symlink("foo", "/etc"), file("foo/" + host_probe_name(), "x")});
        },
        [](const stdfs::path& root, auto&) {
            EXPECT_EQ(read_file(root / "etc" / host_probe_name()), "x");
        });
    neutralised(
        "symlink_dotdot_then_write",
        [](auto&) {
            return tar_of({symlink("up", "../canary"), file("up/pwned", "x")});
        },
        [](const stdfs::path& root, auto&) { EXPECT_EQ(read_file(root / "canary/pwned"), "x"); });
    neutralised(
        "symlink_dotdot_chain",
        [](auto&) {
            return tar_of({symlink("a", ".."), symlink("b", "a/../.."),
                           file("a/a/b/a/canary/pwned", "x"), file("b/canary/pwned2", "y")});
        },
        [](const stdfs::path& root, auto&) {
            EXPECT_EQ(read_file(root / "canary/pwned"), "x");
            EXPECT_EQ(read_file(root / "canary/pwned2"), "y");
        });
    neutralised(
        "symlink_nested_escape",
        [](auto&) {
            return tar_of(
                {dir("d"), symlink("d/e", "../../../../../.."), file("d/e/canary/pwned", "x")});
        },
        [](const stdfs::path& root, auto&) { EXPECT_EQ(read_file(root / "canary/pwned"), "x"); });
    // /proc magic links are just paths inside the root here (there is no proc in it).
    neutralised(
        "symlink_proc_magic_link",
        [](const stdfs::path& canary) {
            return tar_of(
                {symlink("p", "/proc/self/root" + canary.string()), file("p/pwned", "x")});
        },
        [](const stdfs::path& root, const stdfs::path& canary) {
            EXPECT_EQ(read_file(root / "proc/self/root" / rel(canary) / "pwned"), "x");
        });
    // A directory replaced by a symlink mid-layer, then written through.
    neutralised(
        "dir_replaced_by_symlink",
        [](const stdfs::path& canary) {
            return tar_of(
                {dir("d"), file("d/a", "1"), symlink("d", canary.string()), file("d/pwned", "x")});
        },
        [](const stdfs::path& root, const stdfs::path& canary) {
            EXPECT_TRUE(stdfs::is_symlink(root / "d"));
            EXPECT_EQ(read_file(root / rel(canary) / "pwned"), "x");
        });
    // Whiteouts and opaque markers below a symlink to the canary delete nothing outside.
    neutralised(
        "whiteout_through_symlink",
        [](const stdfs::path& canary) {
            return tar_of({symlink("l", canary.string()), file("l/.wh.secret", ""),
                           symlink("u", "../canary"), file("u/.wh.secret", "")});
        },
        [](auto&, auto&) {});
    neutralised(
        "opaque_through_symlink",
        [](const stdfs::path& canary) {
            return tar_of({symlink("l", canary.string()), file("l/.wh..wh..opq", ""),
                           symlink("u", ".."), file("u/.wh..wh..opq", "")});
        },
        [](auto&, auto&) {});
    // chmod/chown of an entry named like the canary, through a symlinked parent.
    neutralised(
        "metadata_through_symlink",
        [](auto&) {
            Entry d = dir("up/canary", 0777);
            d.uid = 666;
            return tar_of({symlink("up", ".."), d});
        },
        [](const stdfs::path& root, auto&) {
            struct stat st {};
            ASSERT_EQ(::lstat((root / "canary").c_str(), &st), 0);
            EXPECT_EQ(st.st_uid, 666u);
        });
    // A symlink whose final component is itself: replaced, never followed.
    neutralised(
        "file_over_symlink_is_not_followed",
        [](const stdfs::path& canary) {
            return tar_of({symlink("s", (canary / "secret").string()), file("s", "x")});
        },
        [](const stdfs::path& root, auto&) {
            EXPECT_FALSE(stdfs::is_symlink(root / "s"));
            EXPECT_EQ(read_file(root / "s"), "x");
        });
    neutralised(
        "hardlink_over_symlink_dest",
        [](const stdfs::path& canary) {
            return tar_of(
                {file("t", "t"), symlink("s", (canary / "secret").string()), hardlink("s", "t")});
        },
        [](const stdfs::path& root, auto&) { EXPECT_EQ(read_file(root / "s"), "t"); });
    neutralised(
        "absolute_symlink_target_kept",
        [](auto&) { return tar_of({symlink("passwd", "/etc/" + host_probe_name())}); },
        [](const stdfs::path& root, auto&) {
            EXPECT_EQ(stdfs::read_symlink(root / "passwd"), "/etc/" + host_probe_name());
        });
    // Overlay mode: a whiteout through a symlinked directory lands inside the upper dir.
    {
        Case oc{"overlay_whiteout_through_symlink",
                [](const stdfs::path& canary) {
                    return tar_of({symlink("l", canary.string()), file("l/.wh.secret", ""),
                                   file("l/.wh..wh..opq", "")});
                },
                Expect::Neutralised,
                [](const stdfs::path& root, const stdfs::path& canary) {
                    struct stat st {};
                    ASSERT_EQ(::lstat((root / rel(canary) / "secret").c_str(), &st), 0);
                    EXPECT_TRUE(S_ISCHR(st.st_mode));
                }};
        oc.options.whiteouts = WhiteoutMode::OverlayUpper;
        c.push_back(std::move(oc));
    }
    {
        Case lim{"entry_over_configured_limit",
                 [](auto&) { return tar_of({file("big", std::string(2 << 20, 'x'))}); },
                 Expect::Refused};
        lim.why = reasons().at(lim.name);
        lim.options.limits.max_entry_size = 1 << 20;
        c.push_back(std::move(lim));
    }
    {
        Case many{"too_many_entries",
                  [](auto&) {
                      return tar_of({file("a", ""), file("b", ""), file("c", "")});
                  },
                  Expect::Refused};
        many.why = reasons().at(many.name);
        many.options.limits.max_entries = 2;
        c.push_back(std::move(many));
    }
    return c;
}

class HostileLayer : public ::testing::TestWithParam<Case> {};

TEST_P(HostileLayer, NothingOutsideTheRootChanges) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const Case& c = GetParam();
    TempDir tmp;
    stdfs::path root = tmp.path() / "root";
    stdfs::path canary = tmp.path() / "canary";
    stdfs::create_directories(root);
    stdfs::create_directories(canary / "sub");
    write_file(canary / "secret", "do not touch");
    write_file(canary / "sub/file", "nor this");
    auto before = snapshot(tmp.path() / "canary");
    auto siblings_before = snapshot(tmp.path());
    std::string etc_passwd = read_file("/etc/passwd");

    std::string layer = c.layer(canary);
    SpanSource src(layer);
    auto r = apply_layer(src, root, c.options);
    if (c.expect == Expect::Refused) {
        ASSERT_FALSE(r.ok()) << c.name << " was applied";
        EXPECT_EQ(r.error().code(), c.code) << r.error().message();
        EXPECT_FALSE(r.error().message().empty());
        // Refused for the reason the case is about, not by accident.
        EXPECT_NE(r.error().message().find(c.why), std::string::npos)
            << r.error().message() << " (expected: " << c.why << ")";
    } else {
        ASSERT_TRUE(r.ok()) << c.name << ": " << r.error().message();
        if (c.check) c.check(root, canary);
    }
    EXPECT_EQ(snapshot(tmp.path() / "canary"), before) << "the canary changed";
    // Nothing new beside the root either.
    for (auto& s : snapshot(tmp.path())) {
        if (s.rfind(root.string() + "/", 0) != 0 && s.rfind(root.string() + " ", 0) != 0) {
            EXPECT_TRUE(siblings_before.count(s)) << "outside the root: " << s;
        }
    }
    EXPECT_EQ(read_file("/etc/passwd"), etc_passwd);
    stdfs::path probe = stdfs::path("/etc") / host_probe_name();
    EXPECT_FALSE(stdfs::exists(probe)) << "a layer wrote into the host's /etc";
    std::error_code ec;
    stdfs::remove(probe, ec);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileLayer, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// Compressed streams that lie: errors, never a silent success.
class HostileStream : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        root_ = tmp_.path() / "root";
        stdfs::create_directories(root_);
    }
    Result<ApplyStats> apply_packed(const std::string& packed) {
        auto ls = LayerStream::open(std::make_unique<SpanSource>(packed));
        if (!ls.ok()) return std::move(ls).error();
        return apply_layer(**ls, root_);
    }
    TempDir tmp_;
    stdfs::path root_;
    std::string tar_ = tar_of({file("a", random_bytes(200000, 5)), file("b", "x")});
};

TEST_F(HostileStream, TruncatedGzipIsAnError) {
    std::string gz = gzip(tar_);
    for (std::size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, std::size_t(20)}) {
        auto r = apply_packed(gz.substr(0, cut));
        ASSERT_FALSE(r.ok()) << "cut at " << cut;
        EXPECT_EQ(r.error().code(), Errc::InvalidArgument) << r.error().message();
    }
}

TEST_F(HostileStream, CorruptGzipIsAnError) {
    std::string gz = gzip(tar_);
    gz[gz.size() / 2] ^= 0x55;
    auto r = apply_packed(gz);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument) << r.error().message();
}

TEST_F(HostileStream, GzipTrailingGarbageIsAnError) {
    auto r = apply_packed(gzip(tar_) + "garbage!");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument) << r.error().message();
}

TEST_F(HostileStream, ZstdGarbageIsAnError) {
    std::string z = "\x28\xb5\x2f\xfd" + random_bytes(5000, 11);
    auto r = apply_packed(z);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument) << r.error().message();
}

TEST_F(HostileStream, TruncatedZstdIsAnError) {
    std::string z = zstd(tar_);
    auto r = apply_packed(z.substr(0, z.size() - 3));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument) << r.error().message();
}

TEST_F(HostileStream, GzipBombIsBoundedByTheEntryLimit) {
    // 64 MiB of zeros in one entry compresses to ~64 KiB; the limit stops it at the header.
    TarBuilder b;
    b.add(file("bomb", std::string(64 << 20, '\0')));
    std::string gz = gzip(b.finish());
    auto ls = LayerStream::open(std::make_unique<SpanSource>(gz));
    ASSERT_TRUE(ls.ok());
    ApplyOptions opt;
    opt.limits.max_entry_size = 1 << 20;
    auto r = apply_layer(**ls, root_, opt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
    EXPECT_FALSE(stdfs::exists(root_ / "bomb"));
}

} // namespace
} // namespace gantry::archive
