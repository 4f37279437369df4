#include "repo/base/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "repo/base/error.hpp"
#include "repo/base/file_io.hpp"

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

std::optional<std::uint64_t> process_start_time(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Field 2, the command name in parentheses, may itself hold spaces and ')': the fields
    // after it start at the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    fields >> state;  // field 3
    if (state.empty() || state == "Z" || state == "X") return std::nullopt;
    std::string field;
    for (int i = 4; i <= 22 && fields >> field; ++i) {
        if (i < 22) continue;
        try {
            return std::stoull(field);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

bool process_running(pid_t pid, std::uint64_t start_time) {
    auto now = process_start_time(pid);
    return now && *now == start_time;
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

namespace {

// This process's environment with `extra` (NAME=VALUE) added, replacing a variable of the same name.
std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
    std::vector<std::string> out;
    auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
    for (char** e = environ; e && *e; ++e) {
        std::string entry = *e;
        bool replaced = false;
        for (const auto& x : extra) replaced = replaced || name_of(x) == name_of(entry);
        if (!replaced) out.push_back(std::move(entry));
    }
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

// The file actions and attributes of one spawn, released however the spawn ends.
struct SpawnSetup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    SpawnSetup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

Command Command::from_argv(std::vector<std::string> argv) {
    if (argv.empty()) throw std::invalid_argument("an empty command line");
    Command c(argv.front());
    c.argv_ = std::move(argv);
    return c;
}

Command& Command::arg(std::string value) {
    argv_.push_back(std::move(value));
    return *this;
}

Command& Command::args(const std::vector<std::string>& values) {
    argv_.insert(argv_.end(), values.begin(), values.end());
    return *this;
}

Command& Command::env(const std::string& name, const std::string& value) {
    env_.push_back(name + "=" + value);
    return *this;
}

Command& Command::own_process_group() {
    own_group_ = true;
    return *this;
}

Command& Command::on_start(std::function<void(pid_t)> started) {
    on_start_ = std::move(started);
    return *this;
}

std::string Command::line() const {
    std::string out;
    for (const auto& a : argv_) out += (out.empty() ? "" : " ") + a;
    return out;
}

pid_t Command::spawn(int out_fd, int err_fd) const {
    SpawnSetup setup;
    posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&setup.actions, out_fd, 1);
    if (err_fd >= 0)
        posix_spawn_file_actions_adddup2(&setup.actions, err_fd, 2);
    else
        posix_spawn_file_actions_addopen(&setup.actions, 2, "/dev/null", O_WRONLY, 0);
    if (own_group_) {
        posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&setup.attr, 0);
    }
    std::vector<char*> args;
    for (const auto& a : argv_) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> environment = environment_with(env_);
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), envp.data());
    if (rc != 0)
        throw ConfigError("cannot run " + argv_[0] + ": " + std::error_code(rc, std::generic_category()).message());
    if (on_start_) {
        try {
            on_start_(pid);
        } catch (...) {
            // The caller could not record the child (a full disk): it is not left running unseen.
            ::kill(pid, SIGKILL);
            wait_child(pid);
            throw;
        }
    }
    return pid;
}

namespace {

// Reads `fd` to its end, each chunk to `chunk`; then waits for `pid`: the exit code as
// Command's runs return it.
int read_and_wait(int fd, pid_t pid, const std::function<void(const char*, std::size_t)>& chunk) {
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        chunk(buf, static_cast<std::size_t>(n));
    }
    int status = wait_child(pid);
    if (status < 0) return 128;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

// The child writes its own log, and the applier follows the log as `tail -f` does, rather than
// reading a pipe: an applier killed with -9 (an OOM kill, a lost session) then leaves its child
// no broken pipe to die of at its next line of output, and the engine-setup or yum transaction
// it started runs to its end (a re-run waits for it, repo/apply/interrupted_child.hpp). The price:
// on a full disk the child's own writes fail, where the disk fails the transaction anyway.
int Command::run_logged(const std::filesystem::path& log, const OutputSink& output) const {
    std::error_code ec;
    std::filesystem::create_directories(log.parent_path(), ec);
    Fd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (log_fd.get() < 0) throw ConfigError("cannot open log " + log.string());
    std::string header = "# " + line() + "\n";
    if (::write(log_fd.get(), header.data(), header.size()) < 0) throw ConfigError("cannot write log " + log.string());
    Fd follow(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
    if (follow.get() < 0 || ::lseek(follow.get(), 0, SEEK_END) < 0)
        throw ConfigError("cannot read log " + log.string());

    pid_t pid = spawn(log_fd.get(), log_fd.get());
    auto forward = [&] {
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(follow.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            if (output) output(buf, static_cast<std::size_t>(n));
        }
    };
    for (;;) {
        forward();
        int status = 0;
        pid_t ended = ::waitpid(pid, &status, WNOHANG);
        if (ended < 0 && errno == EINTR) continue;
        if (ended != 0) {
            forward();  // what it wrote last
            if (ended < 0) return 128;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        ::usleep(50 * 1000);
    }
}

int Command::run_captured(std::string& out) const {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw ConfigError("pipe failed");
    Fd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = spawn(write_end.get(), -1);
    write_end = Fd();
    return read_and_wait(read_end.get(), pid, [&out](const char* data, std::size_t size) { out.append(data, size); });
}

}  // namespace airgap::repo
