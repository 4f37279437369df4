#include "repo/spawn.hpp"

#include <sys/wait.h>

#include <cerrno>

extern char** environ;

namespace airgap::repo {

int spawn_child(const std::vector<std::string>& argv, const posix_spawn_file_actions_t& actions, pid_t& pid,
                const posix_spawnattr_t* attr) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    return posix_spawnp(&pid, args[0], &actions, attr, args.data(), environ);
}

int wait_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return status;
}

}  // namespace airgap::repo
