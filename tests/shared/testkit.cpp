#include "tests/shared/testkit.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace airgap::test {

namespace {

// The wait status of child `pid`, waiting through signals that interrupt the wait.
int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

void set_exit_status(CommandResult* result, int status) {
    result->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    result->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + result->signal;
}

}  // namespace

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
    set_exit_status(&result, wait_for(pid));
    return result;
}

StartedCommand start_command(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    StartedCommand started{-1, out, err};
    pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        setpgid(0, 0);
        int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    // In the parent too, so that the group exists before the test signals it.
    setpgid(pid, pid);
    started.pid = pid;
    return started;
}

CommandResult StartedCommand::wait() const {
    CommandResult result;
    set_exit_status(&result, wait_for(pid));
    result.out = read_file(out);
    result.err = read_file(err);
    return result;
}

fs::path binary(const std::string& name) {
    if (name == "ovirt-bundler") return fs::path(AIRGAP_BINARY_DIR) / "bundler" / name;
    if (name == "ovirt-applier") return fs::path(AIRGAP_BINARY_DIR) / "applier" / name;
    throw std::invalid_argument("unknown binary " + name);
}

fs::path source_path(const std::string& relative) { return fs::path(AIRGAP_SOURCE_DIR) / relative; }

CommandResult run_binary(const std::string& name, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {binary(name).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

void must(const std::vector<std::string>& argv) {
    auto r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[0] << ": " << r.out << r.err;
}

CommandResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    return run_command(args);
}

std::string openssl_fingerprint(const fs::path& cert) {
    auto r = openssl({"x509", "-in", cert.string(), "-noout", "-fingerprint", "-sha256"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // "sha256 Fingerprint=AB:CD..." -> "AB:CD..."
    auto eq = r.out.find('=');
    std::string fp = eq == std::string::npos ? r.out : r.out.substr(eq + 1);
    while (!fp.empty() && fp.back() == '\n') fp.pop_back();
    return fp;
}

std::string sha256sum(const fs::path& path) {
    auto r = run_command({"sha256sum", path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, 64);
}

}  // namespace airgap::test

// --- files and text ---------------------------------------------------------------------
namespace airgap::test {

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const std::string& text) {
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

void write_random_file(const fs::path& path, std::size_t size, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; i += 8) {
        auto v = rng();
        for (std::size_t j = 0; j < 8 && i + j < size; ++j) data[i + j] = static_cast<char>(v >> (8 * j));
    }
    write_file(path, data);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

std::size_t line_count(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace airgap::test

// --- the test world ---------------------------------------------------------------------
namespace airgap::test {

fs::path world_dir() { return fs::path(AIRGAP_BINARY_DIR) / "world"; }

::testing::AssertionResult world_is_built() {
    if (fs::exists(world_dir() / ".stamp")) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no test world in " << world_dir()
                                         << ": run the world_build test or scripts/make-world.sh";
}

const std::vector<std::string>& world_repos() {
    static const std::vector<std::string> repos = {"centos-base", "centos-updates", "ovirt-4.3-epel", "ovirt-4.3"};
    return repos;
}

std::vector<std::string> world_repo_url_args(const std::string& base_url) {
    std::vector<std::string> args;
    for (const auto& repo : world_repos()) args.insert(args.end(), {"--repo-url", repo + "=" + base_url + "/" + repo});
    return args;
}

std::vector<std::string> world_dnf(const fs::path& installroot) {
    return {(world_dir() / "bin" / "dnf").string(), "--installroot", installroot.string(),
            "--setopt=reposdir=" + (world_dir() / "yum.repos.d").string()};
}

fs::path copy_world_root(const std::string& name, const fs::path& dir) {
    fs::path copy = dir / name;
    std::filesystem::create_directories(dir);
    CommandResult r = run_command({"cp", "-a", (world_dir() / "roots" / name).string(), copy.string()});
    if (r.exit_code != 0) throw std::runtime_error("cp -a of world root " + name + " failed: " + r.err);
    return copy;
}

std::vector<std::string> applier_argv(const std::string& command, const fs::path& bundle, const fs::path& trust,
                                      const fs::path& root, const fs::path& state) {
    return {binary("ovirt-applier").string(),
            command,
            bundle.string(),
            "--trust",
            trust.string(),
            "--root",
            root.string(),
            "--state-dir",
            state.string(),
            "--package-manager",
            (world_dir() / "bin/dnf").string()};
}

std::vector<std::string> connected_upgrade(const std::string& name, const fs::path& dir) {
    fs::path root = copy_world_root(name, dir);
    std::vector<std::string> argv = world_dnf(root);
    argv.insert(argv.end(), {"upgrade", "-y"});
    CommandResult r = run_command(argv);
    if (r.exit_code != 0) throw std::runtime_error("connected dnf upgrade of " + name + " failed: " + r.err);
    return installed_nevras(root);
}

EngineBuildInputs engine_build_inputs(const fs::path& dir) {
    EngineBuildInputs in{dir / "keys" / "signing-key.pem", dir / "keys" / "signing-cert.pem",
                         copy_world_root("engine-4.3.7", dir), dir / "engine.inventory"};
    CommandResult k = run_binary("ovirt-bundler", {"keygen", "--out", (dir / "keys").string()});
    if (k.exit_code != 0) throw std::runtime_error("ovirt-bundler keygen failed: " + k.out + k.err);
    CommandResult i = run_binary(
        "ovirt-applier", {"inventory", "--role", "engine", "--root", in.root.string(), "-o", in.inventory.string()});
    if (i.exit_code != 0) throw std::runtime_error("ovirt-applier inventory failed: " + i.out + i.err);
    return in;
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
