// Micro benchmark (not a test): applies a generated layer with core/archive and, for
// reference, with GNU tar on the same machine, and prints MB/s (of uncompressed tar bytes)
// and the ratio. The layer: many small files spread over directories plus a few big ones,
// the shape of a distro base layer with a couple of large binaries.
//
//   gantry-archive-bench [--small N] [--big N] [--big-mib N] [--dir /var/tmp] [--runs N]
//
// Variants: plain tar; gzip with decompression+sha256 inline; gzip pipelined (decompress and
// hash on a second thread while files are written), which is what the differ uses.
#include "core/archive/apply.hpp"
#include "core/archive/decompress.hpp"
#include "tests/unit/archive/tar_builder.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

namespace stdfs = std::filesystem;
using namespace gantry::archive;
using namespace gantry::archive::testing;

namespace {

std::string make_layer(int small, int big, int big_mib) {
    TarBuilder b;
    std::mt19937 rng(42);
    std::string pool = random_bytes(1 << 20, 3);
    int dirs = std::max(1, small / 100);
    for (int d = 0; d < dirs; ++d)
        b.add(dir("usr/share/d" + std::to_string(d)));
    for (int i = 0; i < small; ++i) {
        std::size_t size = 200 + rng() % 8000;
        std::size_t off = rng() % (pool.size() - size);
        b.add(file("usr/share/d" + std::to_string(i % dirs) + "/f" + std::to_string(i),
                   pool.substr(off, size)));
    }
    b.add(dir("usr/bin"));
    for (int i = 0; i < big; ++i)
        b.add(file("usr/bin/big" + std::to_string(i),
                   random_bytes(std::size_t(big_mib) << 20, 100 + i), 0755));
    return b.finish();
}

double seconds(const std::function<void()>& f) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void fresh(const stdfs::path& p) {
    stdfs::remove_all(p);
    stdfs::create_directories(p);
    ::sync();
}

} // namespace

int main(int argc, char** argv) {
    int small = 40000, big = 4, big_mib = 32, runs = 3;
    stdfs::path base = "/var/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--small")
            small = std::atoi(argv[i + 1]);
        else if (a == "--big")
            big = std::atoi(argv[i + 1]);
        else if (a == "--big-mib")
            big_mib = std::atoi(argv[i + 1]);
        else if (a == "--runs")
            runs = std::atoi(argv[i + 1]);
        else if (a == "--dir")
            base = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    std::string tar = make_layer(small, big, big_mib);
    std::string gz = gzip(tar);
    double mb = double(tar.size()) / 1e6;
    std::printf("layer: %d small files, %d x %d MiB; tar %.1f MB, gzip %.1f MB\n", small, big,
                big_mib, mb, double(gz.size()) / 1e6);

    char tmpl[256];
    std::snprintf(tmpl, sizeof tmpl, "%s/gantry-bench-XXXXXX", base.c_str());
    if (!::mkdtemp(tmpl)) {
        std::perror("mkdtemp");
        return 1;
    }
    stdfs::path work = tmpl;
    stdfs::path root = work / "root";
    write_file(work / "layer.tar", tar);
    write_file(work / "layer.tar.gz", gz);

    auto best = [&](const std::function<bool()>& once) {
        double b = 1e9;
        for (int r = 0; r < runs; ++r) {
            fresh(root);
            bool ok = true;
            double s = seconds([&] { ok = once(); });
            if (!ok) return -1.0;
            b = std::min(b, s);
        }
        return b;
    };
    auto report = [&](const char* name, double s, double ref) {
        if (s < 0) {
            std::printf("%-34s FAILED\n", name);
            return;
        }
        std::printf("%-34s %7.3f s  %8.1f MB/s", name, s, mb / s);
        if (ref > 0) std::printf("  (%.2fx GNU tar)", ref / s);
        std::printf("\n");
    };

    double tar_plain = best([&] {
        return std::system(("tar --numeric-owner -xpf " + (work / "layer.tar").string() + " -C " +
                            root.string())
                               .c_str()) == 0;
    });
    double tar_gz = best([&] {
        return std::system(("tar --numeric-owner -xzpf " + (work / "layer.tar.gz").string() +
                            " -C " + root.string())
                               .c_str()) == 0;
    });
    double ours_plain = best([&] {
        SpanSource src(tar);
        auto r = apply_layer(src, root);
        if (!r.ok()) std::fprintf(stderr, "%s\n", r.error().message().c_str());
        return r.ok();
    });
    auto gz_run = [&](bool pipelined) {
        return best([&] {
            LayerStreamOptions lo;
            lo.pipelined = pipelined;
            auto ls = LayerStream::open(std::make_unique<SpanSource>(gz), lo);
            if (!ls.ok()) return false;
            auto r = apply_layer(**ls, root);
            if (!r.ok()) std::fprintf(stderr, "%s\n", r.error().message().c_str());
            return r.ok() && (*ls)->digest() == sha256(tar);
        });
    };
    double ours_gz = gz_run(false);
    double ours_gz_pipe = gz_run(true);

    report("GNU tar -x (plain)", tar_plain, 0);
    report("gantry apply (plain)", ours_plain, tar_plain);
    report("GNU tar -xz (gzip)", tar_gz, 0);
    report("gantry apply (gzip+sha256, inline)", ours_gz, tar_gz);
    report("gantry apply (gzip+sha256, pipelined)", ours_gz_pipe, tar_gz);
    stdfs::remove_all(work);
    return 0;
}
