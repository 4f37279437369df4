#include "tests/shared/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace airgap::test {

namespace {

// How often start-up and stop look at the child: short next to the seconds they allow.
constexpr milliseconds poll_interval(20);

// The last `count` lines of `text`: what a server said before it died is at its end.
std::string tail_of(const std::string& text, std::size_t count) {
    std::size_t start = text.size();
    if (start > 0 && text[start - 1] == '\n') --start;
    for (std::size_t seen = 0; start > 0; --start)
        if (text[start - 1] == '\n' && ++seen == count) break;
    return text.substr(start);
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
    return "ended";
}

// The port `file` holds once the server has renamed it into place; 0 before that.
int read_port(const fs::path& file) {
    int port = 0;
    std::istringstream(read_file(file)) >> port;
    return port;
}

// The name a message gives the server: the script when an interpreter runs one.
std::string program_name(const std::vector<std::string>& argv) {
    std::string name = fs::path(argv.at(0)).filename().string();
    if (name.rfind("python", 0) == 0 && argv.size() > 1 && argv[1].rfind('-', 0) != 0)
        name = fs::path(argv[1]).filename().string();
    return name;
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> argv, milliseconds start_timeout) : name_(program_name(argv)) {
    const fs::path port_file = dir_.path() / "port";
    const fs::path output_file = dir_.path() / "output";
    argv.insert(argv.end(), {"--port-file", port_file.string()});

    // Everything the child needs is made before fork: a test binary may run threads (HttpServer),
    // and after fork only async-signal-safe calls are sound in the child.
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out_fd = open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (null_fd < 0 || out_fd < 0) throw std::system_error(errno, std::generic_category(), "open");
    const pid_t parent = getpid();
    static const char exec_failed[] = "cannot execute the server\n";

    pid_ = fork();
    if (pid_ < 0) {
        int err = errno;
        close(null_fd);
        close(out_fd);
        throw std::system_error(err, std::generic_category(), "fork");
    }
    if (pid_ == 0) {
        // Killed with the test binary, even when it crashes or ctest kills it at its timeout.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        dup2(null_fd, 0);
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        execvp(args[0], args.data());
        ssize_t ignored = write(2, exec_failed, sizeof exec_failed - 1);
        (void)ignored;
        _exit(127);
    }
    close(null_fd);
    close(out_fd);

    const auto deadline = steady_clock::now() + start_timeout;
    while ((port_ = read_port(port_file)) == 0) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error(failure(describe_status(status) + " before it listened"));
        }
        if (steady_clock::now() >= deadline) {
            stop();
            throw std::runtime_error(failure("did not write its port to " + port_file.string() + " within " +
                                             std::to_string(start_timeout.count()) + " ms"));
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

ServerProcess::~ServerProcess() {
    stop();
    // A failed test shows what its server said: it may be why.
    if (::testing::Test::HasFailure()) {
        std::string said = output();
        if (!said.empty()) std::cerr << "--- " << name_ << " output (last lines) ---\n" << tail_of(said, 20) << "\n";
    }
}

std::string ServerProcess::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::string ServerProcess::url(const std::string& scheme, const std::string& path) const {
    return scheme + "://" + address() + path;
}

bool ServerProcess::running() const {
    if (pid_ <= 0) return false;
    // WNOWAIT: looks without reaping, so that stop() still collects it.
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
    return info.si_pid == 0;
}

std::string ServerProcess::output() const { return read_file(dir_.path() / "output"); }

void ServerProcess::stop(milliseconds grace) {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = steady_clock::now() + grace;
    for (;;) {
        const pid_t reaped = waitpid(pid_, &status, WNOHANG);
        if (reaped == pid_ || (reaped < 0 && errno != EINTR)) break;
        if (steady_clock::now() >= deadline) {
            kill(pid_, SIGKILL);
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        std::this_thread::sleep_for(poll_interval);
    }
    pid_ = -1;
}

std::string ServerProcess::failure(const std::string& what) const {
    std::string message = name_ + " " + what;
    std::string said = tail_of(output(), 20);
    return message + (said.empty() ? "; it wrote nothing" : "; its output ends with:\n" + said);
}

}  // namespace airgap::test
