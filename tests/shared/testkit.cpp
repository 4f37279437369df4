#include "tests/shared/testkit.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace airgap::test {

TempDir::TempDir() {
    fs::path base = fs::path(AIRGAP_BINARY_DIR) / "test-tmp";
    fs::create_directories(base);
    std::string templ = (base / "t-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = templ;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
        throw std::system_error(errno, std::generic_category(), "pipe");
    pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    // Small inputs only: write it all, then read both outputs until EOF.
    if (!input.empty()) {
        ssize_t ignored = write(in_pipe[1], input.data(), input.size());
        (void)ignored;
    }
    close(in_pipe[1]);
    CommandResult result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

fs::path binary(const std::string& name) {
    if (name == "ovirt-bundler") return fs::path(AIRGAP_BINARY_DIR) / "bundler" / name;
    if (name == "ovirt-applier") return fs::path(AIRGAP_BINARY_DIR) / "applier" / name;
    throw std::invalid_argument("unknown binary " + name);
}

fs::path source_path(const std::string& relative) { return fs::path(AIRGAP_SOURCE_DIR) / relative; }

}  // namespace airgap::test

// --- the test world ---------------------------------------------------------------------
#include <algorithm>
#include <sstream>

namespace airgap::test {

fs::path world_dir() { return fs::path(AIRGAP_BINARY_DIR) / "world"; }

std::vector<std::string> world_dnf(const fs::path& installroot) {
    return {(world_dir() / "bin" / "dnf").string(), "--installroot", installroot.string(),
            "--setopt=reposdir=" + (world_dir() / "yum.repos.d").string()};
}

fs::path copy_world_root(const std::string& name, const fs::path& dir) {
    fs::path copy = dir / name;
    CommandResult r = run_command({"cp", "-a", (world_dir() / "roots" / name).string(), copy.string()});
    if (r.exit_code != 0) throw std::runtime_error("cp -a of world root " + name + " failed: " + r.err);
    return copy;
}

std::vector<std::string> installed_nevras(const fs::path& root) {
    CommandResult r =
        run_command({"rpm", "--root", root.string(), "--define", "_dbpath /var/lib/rpm", "-qa", "--qf", "%{nevra}\\n"});
    if (r.exit_code != 0) throw std::runtime_error("rpm -qa in " + root.string() + " failed: " + r.err);
    std::vector<std::string> nevras;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty() && line.rfind("gpg-pubkey-", 0) != 0) nevras.push_back(line);
    std::sort(nevras.begin(), nevras.end());
    return nevras;
}

std::vector<std::string> dnf_transaction_packages(const std::string& dnf_output) {
    std::vector<std::string> nevras;
    std::vector<std::string> row;  // tokens of the row being read: name arch version repo size
    bool in_section = false;
    auto flush = [&] {
        if (row.size() >= 3) nevras.push_back(row[0] + "-" + row[2] + "." + row[1]);
        row.clear();
    };
    std::istringstream lines(dnf_output);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.rfind("Transaction Summary", 0) == 0) {
            flush();
            in_section = false;
            continue;
        }
        if (line[0] != ' ') {  // a section title ("Upgrading:") or anything else
            flush();
            in_section =
                line.back() == ':' && (line.rfind("Installing", 0) == 0 || line.rfind("Upgrading", 0) == 0 ||
                                       line.rfind("Reinstalling", 0) == 0 || line.rfind("Downgrading", 0) == 0);
            continue;
        }
        if (!in_section) continue;
        std::istringstream tokens(line);
        std::string first;
        tokens >> first;
        if (first == "replacing") continue;
        if (line.size() > 1 && line[1] != ' ') flush();  // a row starts one space in; wrapped parts further in
        row.push_back(first);
        for (std::string t; tokens >> t;) row.push_back(t);
    }
    flush();
    std::sort(nevras.begin(), nevras.end());
    return nevras;
}

}  // namespace airgap::test
