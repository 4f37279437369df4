#pragma once
// Starting the programs the tools run (createrepo_c, mount, the package manager, engine-setup):
// posix_spawnp with the caller's file actions, and a wait that outlasts signals; and Command,
// which builds a command line and runs it with its output passed on and logged.
#include <spawn.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace airgap::repo {

/// Starts argv[0], looked up on PATH, with `argv` and this process's environment, the file
/// `actions` applied. 0 with the child's pid in `pid`, or posix_spawnp's error number.
/// `attr`, when given, sets e.g. the child's process group.
int spawn_child(const std::vector<std::string>& argv, const posix_spawn_file_actions_t& actions, pid_t& pid,
                const posix_spawnattr_t* attr = nullptr);

/// waitpid() for `pid`, again whenever a signal interrupts it: the raw wait status, or -1
/// with errno set when waiting fails.
int wait_child(pid_t pid);

/// Whether `name` is what execvp() would start: a path when it has a '/', else the first
/// executable regular file of that name on PATH.
bool is_runnable(const std::string& name);

/// Runs argv with its streams on /dev/null, for a program whose output says nothing the caller
/// needs (umount, stopping a gpg-agent): its exit status, 127 when it cannot start, 128 when it
/// did not exit normally.
int run_quiet(const std::vector<std::string>& argv);

/// When process `pid` started, in clock ticks after boot (field 22 of /proc/PID/stat): with the
/// pid it names one process, since the kernel reuses pids but never a pid with the same start
/// time. nullopt when no such process runs on this machine, or it is a zombie (it has ended and
/// only waits to be reaped: yum's own lock check, yum/__init__.py _get_locker, takes a zombie as gone).
std::optional<std::uint64_t> process_start_time(pid_t pid);

/// Whether the process that was `pid` when it started at `start_time` (process_start_time) still
/// runs: false once it ended, and for another process that got the same pid later.
bool process_running(pid_t pid, std::uint64_t start_time);

/// Where a logged command's output goes as it comes (the terminal, a capture for an error line).
using OutputSink = std::function<void(const char* data, std::size_t size)>;

/// One child process, built up and then run: the program and its arguments, variables added to
/// its environment, whether it gets a process group of its own. Every program the applier's
/// sequences start (the package manager, rpm, engine-upgrade-check, engine-setup, psql) is run
/// through it, so that each gets the same streams, log and exit-code rules.
class Command {
public:
    /// `program` is looked up on PATH unless it names a path.
    explicit Command(std::string program) { argv_.push_back(std::move(program)); }
    /// A command line given whole; argv[0] is the program. std::invalid_argument when empty.
    static Command from_argv(std::vector<std::string> argv);

    Command& arg(std::string value);
    Command& args(const std::vector<std::string>& values);
    /// NAME=VALUE in the child's environment, besides this process's: for what must never be on a
    /// command line that `ps` shows (a password file's name is fine, a password is not).
    Command& env(const std::string& name, const std::string& value);
    /// The child runs in a process group of its own, so that the terminal's Ctrl-C (or a lost
    /// session's SIGHUP) reaches only this process, which notes it and lets the child finish.
    Command& own_process_group();
    /// `started` is called with the child's pid as soon as it runs, before its output is read and
    /// it is waited for: for a caller that journals which process is at work.
    Command& on_start(std::function<void(pid_t pid)> started);

    const std::vector<std::string>& argv() const noexcept { return argv_; }
    const std::string& program() const noexcept { return argv_.front(); }
    /// The command line joined with spaces, as messages and logs show it.
    std::string line() const;

    /// Runs it with stdin from /dev/null; stdout and stderr, together, are appended to `log`
    /// (created with its directory, mode 0600) after a line "# COMMAND" by the child itself, and
    /// go to `output` as they reach the log. A child outlives the death of its caller.
    /// Returns the exit code, 128+N when signal N killed it, 128 when it cannot be waited for.
    /// ConfigError "cannot run PROGRAM: REASON" when it cannot start, "cannot open log FILE" when
    /// the log cannot be written.
    int run_logged(const std::filesystem::path& log, const OutputSink& output = {}) const;
    /// Runs it for its answer: stdout is appended to `out`; stderr goes to /dev/null, for a
    /// program that keeps its own log (imgbase logs to /var/log/imgbased.log) and whose log lines
    /// must not be read as its answer. Exit code and errors as run_logged().
    int run_captured(std::string& out) const;

private:
    /// Starts the child with stdout on `out_fd` and stderr on `err_fd` (-1: /dev/null); its pid.
    pid_t spawn(int out_fd, int err_fd) const;

    std::vector<std::string> argv_;
    std::vector<std::string> env_;  // NAME=VALUE
    bool own_group_ = false;
    std::function<void(pid_t)> on_start_;
};

}  // namespace airgap::repo
