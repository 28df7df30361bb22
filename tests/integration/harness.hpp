// Integration-test plumbing: a private gantryd on a temp root, and commands run against it.
// Everything is RAII: a failing test still stops its daemon, kills its children and unmounts
// whatever it left under its temp root.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gantry::itest {

struct Output {
    int exit_code = -1; // -1: killed by a signal or not run
    std::string out;
    std::string err;
};

// Runs argv with optional extra environment, captures stdout/stderr, kills it after `timeout`.
Output run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
           std::chrono::seconds timeout = std::chrono::seconds(30));

// A short temp dir (unix socket paths are limited to 108 bytes); removed with its mounts.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string bin(const std::string& name); // build-tree binary, e.g. bin("gantryd")

class Daemon {
public:
    struct Options {
        std::string config_text; // written to <dir>/config.toml when non-empty
        std::vector<std::string> extra_args;
        bool wait_ready = true;
        bool start_now = true; // false: the test prepares the directory, then calls start()
    };
    explicit Daemon(Options opts);
    Daemon() : Daemon(Options{}) {}
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    const std::string& dir() const { return dir_.path(); }
    std::string root() const { return dir() + "/root"; }
    std::string state() const { return dir() + "/state"; }
    std::string socket() const { return dir() + "/s/gantryd.sock"; }
    std::string log() const;
    pid_t pid() const { return pid_; }

    // (Re)starts with the same root/state/socket. Returns false if it did not become ready.
    bool start();
    // SIGTERM and wait; returns the exit code (or -signal).
    int stop(std::chrono::seconds grace = std::chrono::seconds(10));
    void kill9();
    // Waits for an exit that happens by itself (e.g. a refused start); nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::seconds timeout);

    Output gantry(std::vector<std::string> args, const std::string& ns = "") const;
    Output ctr(std::vector<std::string> args, const std::string& ns = "") const;

private:
    Options opts_;
    TempDir dir_;
    pid_t pid_ = -1;
};

bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout);
bool contains(const std::string& hay, const std::string& needle);

} // namespace gantry::itest
