#include "shims/gantry-shim/cgroups.hpp"

#include "shims/gantry-shim/pb.hpp"
#include "shims/gantry-shim/util.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <string_view>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace gantry::shim {

namespace {

constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";

// controller -> path inside its hierarchy, from /proc/<pid>/cgroup; v2 is under the key "".
std::map<std::string, std::string> cgroupPaths(int pid) {
    std::map<std::string, std::string> out;
    auto text = readFile("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text) return out;
    std::string_view rest = *text;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        auto c1 = line.find(':');
        auto c2 = line.find(':', c1 + 1);
        if (c1 == std::string_view::npos || c2 == std::string_view::npos) continue;
        std::string_view ctrls = line.substr(c1 + 1, c2 - c1 - 1);
        std::string path(line.substr(c2 + 1));
        // A hierarchy with several controllers is mounted under their joined name (cpu,cpuacct).
        out[std::string(ctrls)] = path;
        size_t at = 0;
        while (at <= ctrls.size()) {
            size_t comma = ctrls.find(',', at);
            std::string_view one =
                ctrls.substr(at, comma == std::string_view::npos ? comma : comma - at);
            if (!one.empty())
                out[std::string(one)] = std::string(kCgroupRoot) + "/" + std::string(ctrls) + path;
            if (comma == std::string_view::npos) break;
            at = comma + 1;
        }
    }
    return out;
}

uint64_t readU64(const std::string& path) {
    auto text = readFile(path);
    if (!text) return 0;
    std::string t(trim(*text));
    if (t == "max") return 0;
    return std::strtoull(t.c_str(), nullptr, 10);
}

std::map<std::string, uint64_t> readKeyed(const std::string& path) {
    std::map<std::string, uint64_t> out;
    auto text = readFile(path);
    if (!text) return out;
    std::string_view rest = *text;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        auto sp = line.find(' ');
        if (sp == std::string_view::npos) continue;
        out[std::string(line.substr(0, sp))] =
            std::strtoull(std::string(line.substr(sp + 1)).c_str(), nullptr, 10);
    }
    return out;
}

pb::Writer memoryEntry(const std::string& dir, const std::string& prefix) {
    pb::Writer e;
    e.u64(1, readU64(dir + "/" + prefix + ".limit_in_bytes"));
    e.u64(2, readU64(dir + "/" + prefix + ".usage_in_bytes"));
    e.u64(3, readU64(dir + "/" + prefix + ".max_usage_in_bytes"));
    e.u64(4, readU64(dir + "/" + prefix + ".failcnt"));
    return e;
}

std::string metricsV1(const std::map<std::string, std::string>& dirs) {
    pb::Writer m;
    if (auto it = dirs.find("pids"); it != dirs.end()) {
        pb::Writer p;
        p.u64(1, readU64(it->second + "/pids.current"));
        p.u64(2, readU64(it->second + "/pids.max"));
        m.msg(2, p);
    }
    if (auto it = dirs.find("cpuacct"); it != dirs.end()) {
        pb::Writer usage;
        usage.u64(1, readU64(it->second + "/cpuacct.usage"));
        auto stat = readKeyed(it->second + "/cpuacct.stat");
        long hz = ::sysconf(_SC_CLK_TCK);
        uint64_t nsPerTick = hz > 0 ? 1'000'000'000ull / static_cast<uint64_t>(hz) : 10'000'000ull;
        usage.u64(2, stat["system"] * nsPerTick);
        usage.u64(3, stat["user"] * nsPerTick);
        if (auto per = readFile(it->second + "/cpuacct.usage_percpu")) {
            pb::Writer packed;
            const char* s = per->c_str();
            char* end = nullptr;
            for (uint64_t v = std::strtoull(s, &end, 10); end != s;
                 v = std::strtoull(s, &end, 10)) {
                packed.varint(v);
                s = end;
            }
            if (!packed.data().empty()) usage.msg(4, packed);
        }
        pb::Writer cpu;
        cpu.msg(1, usage);
        if (auto cit = dirs.find("cpu"); cit != dirs.end()) {
            auto cs = readKeyed(cit->second + "/cpu.stat");
            pb::Writer thr;
            thr.u64(1, cs["nr_periods"]);
            thr.u64(2, cs["nr_throttled"]);
            thr.u64(3, cs["throttled_time"]);
            cpu.msg(2, thr);
        }
        m.msg(3, cpu);
    }
    if (auto it = dirs.find("memory"); it != dirs.end()) {
        auto st = readKeyed(it->second + "/memory.stat");
        static constexpr std::string_view kStat[] = {"cache",
                                                     "rss",
                                                     "rss_huge",
                                                     "mapped_file",
                                                     "dirty",
                                                     "writeback",
                                                     "pgpgin",
                                                     "pgpgout",
                                                     "pgfault",
                                                     "pgmajfault",
                                                     "inactive_anon",
                                                     "active_anon",
                                                     "inactive_file",
                                                     "active_file",
                                                     "unevictable",
                                                     "hierarchical_memory_limit",
                                                     "hierarchical_memsw_limit"};
        pb::Writer mem;
        for (size_t i = 0; i < std::size(kStat); ++i) {
            mem.u64(static_cast<uint32_t>(i + 1), st[std::string(kStat[i])]);
            if (i < 15)
                mem.u64(static_cast<uint32_t>(i + 18), st["total_" + std::string(kStat[i])]);
        }
        mem.msg(33, memoryEntry(it->second, "memory"));
        mem.msg(34, memoryEntry(it->second, "memory.memsw"));
        mem.msg(35, memoryEntry(it->second, "memory.kmem"));
        mem.msg(36, memoryEntry(it->second, "memory.kmem.tcp"));
        m.msg(4, mem);
    }
    return any("io.containerd.cgroups.v1.Metrics", m.data()).take();
}

std::string metricsV2(const std::string& dir) {
    pb::Writer m;
    pb::Writer pids;
    pids.u64(1, readU64(dir + "/pids.current"));
    pids.u64(2, readU64(dir + "/pids.max"));
    m.msg(1, pids);
    auto cs = readKeyed(dir + "/cpu.stat");
    pb::Writer cpu;
    cpu.u64(1, cs["usage_usec"]);
    cpu.u64(2, cs["user_usec"]);
    cpu.u64(3, cs["system_usec"]);
    cpu.u64(4, cs["nr_periods"]);
    cpu.u64(5, cs["nr_throttled"]);
    cpu.u64(6, cs["throttled_usec"]);
    m.msg(2, cpu);
    auto ms = readKeyed(dir + "/memory.stat");
    pb::Writer mem;
    static constexpr std::string_view kStat[] = {"anon",
                                                 "file",
                                                 "kernel_stack",
                                                 "slab",
                                                 "sock",
                                                 "shmem",
                                                 "file_mapped",
                                                 "file_dirty",
                                                 "file_writeback",
                                                 "anon_thp",
                                                 "inactive_anon",
                                                 "active_anon",
                                                 "inactive_file",
                                                 "active_file",
                                                 "unevictable",
                                                 "slab_reclaimable",
                                                 "slab_unreclaimable",
                                                 "pgfault",
                                                 "pgmajfault",
                                                 "workingset_refault",
                                                 "workingset_activate",
                                                 "workingset_nodereclaim",
                                                 "pgrefill",
                                                 "pgscan",
                                                 "pgsteal",
                                                 "pgactivate",
                                                 "pgdeactivate",
                                                 "pglazyfree",
                                                 "pglazyfreed",
                                                 "thp_fault_alloc",
                                                 "thp_collapse_alloc"};
    for (size_t i = 0; i < std::size(kStat); ++i)
        mem.u64(static_cast<uint32_t>(i + 1), ms[std::string(kStat[i])]);
    mem.u64(32, readU64(dir + "/memory.current"));
    mem.u64(33, readU64(dir + "/memory.max"));
    mem.u64(34, readU64(dir + "/memory.swap.current"));
    mem.u64(35, readU64(dir + "/memory.swap.max"));
    m.msg(4, mem);
    return any("io.containerd.cgroups.v2.Metrics", m.data()).take();
}

} // namespace

std::string cgroupMetrics(int pid, std::string& anyOut) {
    auto dirs = cgroupPaths(pid);
    if (dirs.empty()) return "cannot read the cgroups of pid " + std::to_string(pid);
    bool unified = dirs.size() == 1 && dirs.count("");
    if (unified) {
        anyOut = metricsV2(std::string(kCgroupRoot) + dirs[""]);
        return {};
    }
    anyOut = metricsV1(dirs);
    return {};
}

Fd watchOom(int pid, std::string& oomControl) {
    auto dirs = cgroupPaths(pid);
    auto it = dirs.find("memory");
    if (it == dirs.end()) return {};
    oomControl = it->second + "/memory.oom_control";
    Fd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    Fd ctl(::open(oomControl.c_str(), O_RDONLY | O_CLOEXEC));
    if (!efd || !ctl) return {};
    std::string line = std::to_string(efd.get()) + " " + std::to_string(ctl.get());
    if (!writeFile(it->second + "/cgroup.event_control", line)) return {};
    // The kernel holds its own reference to memory.oom_control; ours may close.
    return efd;
}

} // namespace gantry::shim
