#pragma once
// Starting the programs the tools run (createrepo_c, mount, the package manager, engine-setup):
// posix_spawnp with the caller's file actions, and a wait that outlasts signals. What the
// child's streams are and what its exit means stay with each caller.
#include <spawn.h>
#include <sys/types.h>

#include <string>
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

}  // namespace airgap::repo
