#include "plugins/runtime/shim_command.hpp"

#include "core/fs/unique_fd.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gantry::runtime {
namespace {

Result<std::pair<fs::UniqueFd, fs::UniqueFd>> make_pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return from_errno(errno, "pipe");
    return std::pair{fs::UniqueFd(p[0]), fs::UniqueFd(p[1])};
}

} // namespace

Result<ShimOutput> run_shim_command(const ShimInvocation& inv, bool combine) {
    GANTRY_ASSIGN_OR_RETURN(auto in, make_pipe());
    GANTRY_ASSIGN_OR_RETURN(auto out, make_pipe());
    GANTRY_ASSIGN_OR_RETURN(auto err, make_pipe());

    std::vector<std::string> argv_s{inv.binary};
    argv_s.insert(argv_s.end(), inv.args.begin(), inv.args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e)
        env_s.emplace_back(*e);
    env_s.insert(env_s.end(), inv.extra_env.begin(), inv.extra_env.end());
    std::vector<char*> envp;
    for (auto& e : env_s)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in.first.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, out.second.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, combine ? out.second.get() : err.second.get(), 2);
    if (!inv.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, inv.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, inv.binary.c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return from_errno(rc, "exec " + inv.binary);
    in.first.reset();
    out.second.reset();
    err.second.reset();

    // stdin: small (an Any of options), written whole, then closed.
    std::string_view rest = inv.stdin_bytes;
    while (!rest.empty()) {
        const ssize_t n = ::write(in.second.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; // the shim did not read it: its exit status tells
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    in.second.reset();

    ShimOutput result;
    const auto deadline = std::chrono::steady_clock::now() + inv.timeout;
    bool out_open = true, err_open = !combine;
    if (combine) err.first.reset();
    bool timed_out = false;
    while (out_open || err_open) {
        pollfd fds[2] = {{out_open ? out.first.get() : -1, POLLIN, 0},
                         {err_open ? err.first.get() : -1, POLLIN, 0}};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        const int n = ::poll(fds, 2, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        char buf[4096];
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
            if (r > 0) {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(r));
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                (i == 0 ? out_open : err_open) = false;
            }
        }
    }
    if (timed_out) ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        return Error(Errc::DeadlineExceeded, inv.binary + " did not finish within " +
                                                 std::to_string(inv.timeout.count()) + " ms");
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

} // namespace gantry::runtime
