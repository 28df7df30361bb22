#include "cmd/gantry/oci_spec.hpp"

#include <seccomp.h>

namespace gantry::cli {
namespace {

using json = nlohmann::json;

// containerd's default capability set (oci.defaultUnixCaps).
const std::vector<std::string> kCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

// The syscalls a default container may make: Docker's and containerd's default profile
// allowlist (the unconditional part), by name.
const char* const kAllowed[] = {"accept",
                                "accept4",
                                "access",
                                "adjtimex",
                                "alarm",
                                "bind",
                                "brk",
                                "capget",
                                "capset",
                                "chdir",
                                "chmod",
                                "chown",
                                "chown32",
                                "clock_adjtime",
                                "clock_adjtime64",
                                "clock_getres",
                                "clock_getres_time64",
                                "clock_gettime",
                                "clock_gettime64",
                                "clock_nanosleep",
                                "clock_nanosleep_time64",
                                "close",
                                "close_range",
                                "connect",
                                "copy_file_range",
                                "creat",
                                "dup",
                                "dup2",
                                "dup3",
                                "epoll_create",
                                "epoll_create1",
                                "epoll_ctl",
                                "epoll_ctl_old",
                                "epoll_pwait",
                                "epoll_pwait2",
                                "epoll_wait",
                                "epoll_wait_old",
                                "eventfd",
                                "eventfd2",
                                "execve",
                                "execveat",
                                "exit",
                                "exit_group",
                                "faccessat",
                                "faccessat2",
                                "fadvise64",
                                "fadvise64_64",
                                "fallocate",
                                "fanotify_mark",
                                "fchdir",
                                "fchmod",
                                "fchmodat",
                                "fchown",
                                "fchown32",
                                "fchownat",
                                "fcntl",
                                "fcntl64",
                                "fdatasync",
                                "fgetxattr",
                                "flistxattr",
                                "flock",
                                "fork",
                                "fremovexattr",
                                "fsetxattr",
                                "fstat",
                                "fstat64",
                                "fstatat64",
                                "fstatfs",
                                "fstatfs64",
                                "fsync",
                                "ftruncate",
                                "ftruncate64",
                                "futex",
                                "futex_time64",
                                "futex_waitv",
                                "futimesat",
                                "getcpu",
                                "getcwd",
                                "getdents",
                                "getdents64",
                                "getegid",
                                "getegid32",
                                "geteuid",
                                "geteuid32",
                                "getgid",
                                "getgid32",
                                "getgroups",
                                "getgroups32",
                                "getitimer",
                                "getpeername",
                                "getpgid",
                                "getpgrp",
                                "getpid",
                                "getppid",
                                "getpriority",
                                "getrandom",
                                "getresgid",
                                "getresgid32",
                                "getresuid",
                                "getresuid32",
                                "getrlimit",
                                "get_robust_list",
                                "getrusage",
                                "getsid",
                                "getsockname",
                                "getsockopt",
                                "get_thread_area",
                                "gettid",
                                "gettimeofday",
                                "getuid",
                                "getuid32",
                                "getxattr",
                                "inotify_add_watch",
                                "inotify_init",
                                "inotify_init1",
                                "inotify_rm_watch",
                                "io_cancel",
                                "ioctl",
                                "io_destroy",
                                "io_getevents",
                                "io_pgetevents",
                                "io_pgetevents_time64",
                                "ioprio_get",
                                "ioprio_set",
                                "io_setup",
                                "io_submit",
                                "io_uring_enter",
                                "io_uring_register",
                                "io_uring_setup",
                                "ipc",
                                "kill",
                                "landlock_add_rule",
                                "landlock_create_ruleset",
                                "landlock_restrict_self",
                                "lchown",
                                "lchown32",
                                "lgetxattr",
                                "link",
                                "linkat",
                                "listen",
                                "listxattr",
                                "llistxattr",
                                "_llseek",
                                "lremovexattr",
                                "lseek",
                                "lsetxattr",
                                "lstat",
                                "lstat64",
                                "madvise",
                                "membarrier",
                                "memfd_create",
                                "memfd_secret",
                                "mincore",
                                "mkdir",
                                "mkdirat",
                                "mknod",
                                "mknodat",
                                "mlock",
                                "mlock2",
                                "mlockall",
                                "mmap",
                                "mmap2",
                                "mprotect",
                                "mq_getsetattr",
                                "mq_notify",
                                "mq_open",
                                "mq_timedreceive",
                                "mq_timedreceive_time64",
                                "mq_timedsend",
                                "mq_timedsend_time64",
                                "mq_unlink",
                                "mremap",
                                "msgctl",
                                "msgget",
                                "msgrcv",
                                "msgsnd",
                                "msync",
                                "munlock",
                                "munlockall",
                                "munmap",
                                "name_to_handle_at",
                                "nanosleep",
                                "newfstatat",
                                "_newselect",
                                "open",
                                "openat",
                                "openat2",
                                "pause",
                                "pidfd_open",
                                "pidfd_send_signal",
                                "pipe",
                                "pipe2",
                                "pkey_alloc",
                                "pkey_free",
                                "pkey_mprotect",
                                "poll",
                                "ppoll",
                                "ppoll_time64",
                                "prctl",
                                "pread64",
                                "preadv",
                                "preadv2",
                                "prlimit64",
                                "process_mrelease",
                                "pselect6",
                                "pselect6_time64",
                                "pwrite64",
                                "pwritev",
                                "pwritev2",
                                "read",
                                "readahead",
                                "readlink",
                                "readlinkat",
                                "readv",
                                "recv",
                                "recvfrom",
                                "recvmmsg",
                                "recvmmsg_time64",
                                "recvmsg",
                                "remap_file_pages",
                                "removexattr",
                                "rename",
                                "renameat",
                                "renameat2",
                                "restart_syscall",
                                "rmdir",
                                "rseq",
                                "rt_sigaction",
                                "rt_sigpending",
                                "rt_sigprocmask",
                                "rt_sigqueueinfo",
                                "rt_sigreturn",
                                "rt_sigsuspend",
                                "rt_sigtimedwait",
                                "rt_sigtimedwait_time64",
                                "rt_tgsigqueueinfo",
                                "sched_getaffinity",
                                "sched_getattr",
                                "sched_getparam",
                                "sched_get_priority_max",
                                "sched_get_priority_min",
                                "sched_getscheduler",
                                "sched_rr_get_interval",
                                "sched_rr_get_interval_time64",
                                "sched_setaffinity",
                                "sched_setattr",
                                "sched_setparam",
                                "sched_setscheduler",
                                "sched_yield",
                                "seccomp",
                                "select",
                                "semctl",
                                "semget",
                                "semop",
                                "semtimedop",
                                "semtimedop_time64",
                                "send",
                                "sendfile",
                                "sendfile64",
                                "sendmmsg",
                                "sendmsg",
                                "sendto",
                                "setfsgid",
                                "setfsgid32",
                                "setfsuid",
                                "setfsuid32",
                                "setgid",
                                "setgid32",
                                "setgroups",
                                "setgroups32",
                                "setitimer",
                                "setpgid",
                                "setpriority",
                                "setregid",
                                "setregid32",
                                "setresgid",
                                "setresgid32",
                                "setresuid",
                                "setresuid32",
                                "setreuid",
                                "setreuid32",
                                "setrlimit",
                                "set_robust_list",
                                "setsid",
                                "setsockopt",
                                "set_thread_area",
                                "set_tid_address",
                                "setuid",
                                "setuid32",
                                "setxattr",
                                "shmat",
                                "shmctl",
                                "shmdt",
                                "shmget",
                                "shutdown",
                                "sigaltstack",
                                "signalfd",
                                "signalfd4",
                                "sigprocmask",
                                "sigreturn",
                                "socketcall",
                                "socketpair",
                                "splice",
                                "stat",
                                "stat64",
                                "statfs",
                                "statfs64",
                                "statx",
                                "symlink",
                                "symlinkat",
                                "sync",
                                "sync_file_range",
                                "syncfs",
                                "sysinfo",
                                "tee",
                                "tgkill",
                                "time",
                                "timer_create",
                                "timer_delete",
                                "timer_getoverrun",
                                "timer_gettime",
                                "timer_gettime64",
                                "timer_settime",
                                "timer_settime64",
                                "timerfd_create",
                                "timerfd_gettime",
                                "timerfd_gettime64",
                                "timerfd_settime",
                                "timerfd_settime64",
                                "times",
                                "tkill",
                                "truncate",
                                "truncate64",
                                "ugetrlimit",
                                "umask",
                                "uname",
                                "unlink",
                                "unlinkat",
                                "utime",
                                "utimensat",
                                "utimensat_time64",
                                "utimes",
                                "vfork",
                                "vmsplice",
                                "wait4",
                                "waitid",
                                "waitpid",
                                "write",
                                "writev",
                                "arch_prctl",
                                "modify_ldt",
                                "clone",
                                "clone3",
                                "socket",
                                "personality",
                                "chroot"};

json mount(std::string dst, std::string type, std::string src, std::vector<std::string> opts) {
    return {{"destination", std::move(dst)},
            {"type", std::move(type)},
            {"source", std::move(src)},
            {"options", std::move(opts)}};
}

Result<json> parse_mount(const std::string& spec) {
    std::string type = "bind", src, dst;
    std::vector<std::string> opts;
    std::size_t start = 0;
    while (start <= spec.size()) {
        const auto comma = spec.find(',', start);
        const std::string kv = spec.substr(start, comma - start);
        const auto eq = kv.find('=');
        if (eq == std::string::npos)
            return invalid_argument("--mount " + spec + ": " + kv + " is not key=value");
        const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "type")
            type = v;
        else if (k == "src" || k == "source")
            src = v;
        else if (k == "dst" || k == "destination" || k == "target")
            dst = v;
        else if (k == "options") {
            std::size_t s = 0;
            while (s <= v.size()) {
                const auto c = v.find(':', s);
                if (c != s) opts.push_back(v.substr(s, c - s));
                if (c == std::string::npos) break;
                s = c + 1;
            }
        } else
            return invalid_argument("--mount " + spec + ": unknown key " + k);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (dst.empty() || dst.front() != '/')
        return invalid_argument("--mount " + spec + ": dst must be an absolute path");
    if (type == "bind" && opts.empty()) opts = {"rbind", "rw"};
    return mount(dst, type, src, opts);
}

} // namespace

nlohmann::json user_json(const ProcessUser& user) {
    json j = {{"uid", user.uid}, {"gid", user.gid}};
    if (!user.additional_gids.empty()) j["additionalGids"] = user.additional_gids;
    return j;
}

std::vector<std::string> default_seccomp_syscalls() {
    std::vector<std::string> out;
    for (const char* name : kAllowed)
        if (seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR) out.emplace_back(name);
    return out;
}

Result<json> build_spec(const SpecInput& in) {
    const json cfg = in.image_config.is_object() ? in.image_config : json::object();
    std::vector<std::string> args;
    if (cfg.contains("Entrypoint") && cfg["Entrypoint"].is_array())
        for (const auto& a : cfg["Entrypoint"])
            args.push_back(a.get<std::string>());
    if (!in.command.empty())
        args.insert(args.end(), in.command.begin(), in.command.end());
    else if (cfg.contains("Cmd") && cfg["Cmd"].is_array())
        for (const auto& a : cfg["Cmd"])
            args.push_back(a.get<std::string>());
    if (args.empty())
        return invalid_argument(
            "no command specified: the image has no Cmd or Entrypoint and none was given");

    std::vector<std::string> env;
    if (cfg.contains("Env") && cfg["Env"].is_array())
        for (const auto& e : cfg["Env"])
            env.push_back(e.get<std::string>());
    bool has_path = false;
    for (const auto& e : env)
        has_path = has_path || e.starts_with("PATH=");
    if (!has_path)
        env.insert(env.begin(),
                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env.insert(env.end(), in.env.begin(), in.env.end());
    if (in.terminal) env.push_back("TERM=xterm");

    std::string cwd = cfg.value("WorkingDir", "");
    if (cwd.empty()) cwd = "/";

    json process = {
        {"terminal", in.terminal},
        {"user", user_json(in.user)},
        {"args", args},
        {"env", env},
        {"cwd", cwd},
        {"capabilities", {{"bounding", kCaps}, {"effective", kCaps}, {"permitted", kCaps}}},
        {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
        {"noNewPrivileges", true}};
    json mounts = json::array({
        mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
        mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        mount("/dev/pts", "devpts", "devpts",
              {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        mount("/dev/shm", "tmpfs", "shm",
              {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        mount("/run", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
    });
    if (in.net_host) {
        mounts.push_back(mount("/etc/hosts", "bind", "/etc/hosts", {"rbind", "ro"}));
        mounts.push_back(mount("/etc/resolv.conf", "bind", "/etc/resolv.conf", {"rbind", "ro"}));
    }
    for (const auto& m : in.mounts) {
        GANTRY_ASSIGN_OR_RETURN(json j, parse_mount(m));
        mounts.push_back(std::move(j));
    }
    json namespaces =
        json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
    if (!in.net_host) namespaces.push_back({{"type", "network"}});
    json linux = {
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
        {"cgroupsPath", "/" + in.ns + "/" + in.id},
        {"resources", {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}}},
        {"namespaces", namespaces}};
    if (in.seccomp) {
        linux["seccomp"] = {
            {"defaultAction", "SCMP_ACT_ERRNO"},
            {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
            {"syscalls",
             json::array({{{"names", default_seccomp_syscalls()}, {"action", "SCMP_ACT_ALLOW"}}})}};
    }
    return json{{"ociVersion", "1.0.2-dev"},
                {"process", process},
                {"root", {{"path", "rootfs"}}},
                {"hostname", in.net_host ? "" : in.id},
                {"mounts", mounts},
                {"linux", linux}};
}

} // namespace gantry::cli
