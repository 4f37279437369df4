#include "repo/spawn.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <sstream>

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

int run_quiet(const std::vector<std::string>& argv) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = spawn_child(argv, fa, pid);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return 127;
    int status = wait_child(pid);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

bool is_runnable(const std::string& name) {
    auto runnable = [](const std::filesystem::path& p) {
        std::error_code ec;
        return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string::npos) return runnable(name);
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');)
        if (runnable(std::filesystem::path(dir.empty() ? "." : dir) / name)) return true;
    return false;
}

}  // namespace airgap::repo
