#pragma once
// The shared test fixture kit: temporary directories and running real commands.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace airgap::test {

/// A fresh directory under the build tree, removed when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct CommandResult {
    int exit_code = -1;  // 128+N when killed by signal N, as a shell says
    std::string out;     // stdout
    std::string err;     // stderr
    int signal = 0;      // the signal that killed it, 0 when it exited: exit(130) is not SIGINT
};

/// Runs argv (no shell) and captures its output and exit code.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {});

/// A command running in the background in a process group of its own (as a shell starts a
/// job, so that kill(-pid, ...) is the terminal's Ctrl-C), its stdout and stderr going to files.
struct StartedCommand {
    pid_t pid = -1;
    std::filesystem::path out, err;
    /// Waits for its end; out and err are what it wrote to the files.
    CommandResult wait() const;
};

/// Starts argv (no shell, looked up on PATH) in the background, stdout to `out`, stderr to `err`.
StartedCommand start_command(const std::vector<std::string>& argv, const std::filesystem::path& out,
                             const std::filesystem::path& err);

/// Absolute path of a built executable ("ovirt-bundler", "ovirt-applier").
std::filesystem::path binary(const std::string& name);

/// Absolute path inside the source tree.
std::filesystem::path source_path(const std::string& relative);

/// Runs our executable `name` (see binary()) with `args`, no shell.
CommandResult run_binary(const std::string& name, const std::vector<std::string>& args);

/// Runs argv and fails the current test (fatally, from this function) unless it exits 0;
/// the failure names the program and shows its output.
void must(const std::vector<std::string>& argv);

/// Runs the openssl CLI with `args`: the peer a security officer checks our crypto with.
CommandResult openssl(std::vector<std::string> args);

/// The SHA-256 fingerprint `openssl x509 -fingerprint -sha256` prints for the certificate
/// `cert` ("AB:CD:..."); a failure of openssl fails the current test.
std::string openssl_fingerprint(const std::filesystem::path& cert);

/// The hex digest `sha256sum FILE` prints (the check a user runs by hand); a failure of
/// sha256sum fails the current test.
std::string sha256sum(const std::filesystem::path& path);

/// The message of the `E` that `f()` throws, or "<no exception>" when it returns (other
/// exception types pass through).
template <class E, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

/// As error_of<E>(f), and fails the current test unless the exception's exit_code() (the
/// program's exit status for it) is `exit_code`.
template <class E, class F>
std::string error_of(F&& f, int exit_code) {
    try {
        f();
    } catch (const E& e) {
        EXPECT_EQ(e.exit_code(), exit_code) << e.what();
        return e.what();
    }
    return "<no exception>";
}

}  // namespace airgap::test

// Files and text, the way tests make and read them.
namespace airgap::test {

/// The bytes of `path`; "" when it cannot be read (a test then fails on what it compares).
std::string read_file(const std::filesystem::path& path);

/// Writes `text` to `path` as is, creating its parent directories, replacing any old file.
void write_file(const std::filesystem::path& path, const std::string& text);

/// Writes `size` pseudo-random bytes from `seed` to `path` (parents created): content that
/// is neither compressible nor patterned, the same for the same seed.
void write_random_file(const std::filesystem::path& path, std::size_t size, unsigned seed);

/// The non-empty lines of `text`, without their newline.
std::vector<std::string> lines_of(const std::string& text);

/// The number of newline characters in `text`.
std::size_t line_count(const std::string& text);

}  // namespace airgap::test

// The test world (scripts/make-world.sh, tests/data/world/README.md): signed repos, a
// manifest and 4.3.7 roots, built once per build tree by the ctest fixture "world".
namespace airgap::test {

/// ${AIRGAP_BINARY_DIR}/world, where the world_build fixture builds the test world.
std::filesystem::path world_dir();

/// Success when the world is built (its .stamp exists), else a failure that says how to build
/// it: `ASSERT_TRUE(world_is_built());` in a fixture's SetUp.
::testing::AssertionResult world_is_built();

/// The ids of the world's repos, as its manifest.yaml names them.
const std::vector<std::string>& world_repos();

/// `--repo-url ID=BASE/ID` for every world repo: the options that point a bundler command at
/// the world's repos served (tests/shared/http_server.hpp) at `base_url`.
std::vector<std::string> world_repo_url_args(const std::string& base_url);

/// argv prefix that runs dnf on `installroot` with only the world's repos: the world's
/// bin/dnf (no plugins, releasever 7, rpmdb in /var/lib/rpm inside the root) plus
/// --installroot and --setopt=reposdir. Append the command, e.g. {"upgrade", "--assumeno"}.
std::vector<std::string> world_dnf(const std::filesystem::path& installroot);

/// Copies the world's root `name` ("engine-4.3.7", "host-4.3.7") to `dir`/`name` (cp -a)
/// and returns the copy: tests change copies, never the world.
std::filesystem::path copy_world_root(const std::string& name, const std::filesystem::path& dir);

/// Packages installed in `root` (rpmdb in /var/lib/rpm) as name-[epoch:]version-release.arch,
/// gpg-pubkey left out, sorted.
std::vector<std::string> installed_nevras(const std::filesystem::path& root);

/// `ovirt-applier COMMAND BUNDLE --trust TRUST --root ROOT --state-dir STATE --package-manager
/// WORLD/bin/dnf`: an applier run against a world root with the world's dnf.
std::vector<std::string> applier_argv(const std::string& command, const std::filesystem::path& bundle,
                                      const std::filesystem::path& trust, const std::filesystem::path& root,
                                      const std::filesystem::path& state);

/// What a connected site reaches: a copy of world root `name` under `dir` updated by
/// `dnf upgrade -y` from the world's repos; its installed_nevras(). Throws when dnf fails.
std::vector<std::string> connected_upgrade(const std::string& name, const std::filesystem::path& dir);

/// What a bundler end-to-end test starts from, made in `dir`: a signing key pair from
/// `ovirt-bundler keygen` in dir/keys, a copy of the world's 4.3.7 engine root and its inventory
/// from `ovirt-applier inventory` (dir/engine.inventory). Throws when a command fails.
struct EngineBuildInputs {
    std::filesystem::path key, cert, root, inventory;
};
EngineBuildInputs engine_build_inputs(const std::filesystem::path& dir);

/// The packages a dnf transaction table (dnf's output before "Is this ok" / --assumeno)
/// installs, upgrades, reinstalls or downgrades, as sorted NEVRAs; removals and the
/// "replacing" lines left out. Copes with rows dnf wraps when a name is long.
std::vector<std::string> dnf_transaction_packages(const std::string& dnf_output);

}  // namespace airgap::test
