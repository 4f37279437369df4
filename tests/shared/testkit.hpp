#pragma once
// The shared test fixture kit: temporary directories and running real commands.
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
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

/// Runs argv (no shell) and captures its output and exit code.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {});

/// Absolute path of a built executable ("ovirt-bundler", "ovirt-applier").
std::filesystem::path binary(const std::string& name);

/// Absolute path inside the source tree.
std::filesystem::path source_path(const std::string& relative);

}  // namespace airgap::test

// The test world (scripts/make-world.sh, tests/data/world/README.md): signed repos, a
// manifest and 4.3.7 roots, built once per build tree by the ctest fixture "world".
namespace airgap::test {

/// ${AIRGAP_BINARY_DIR}/world, where the world_build fixture builds the test world.
std::filesystem::path world_dir();

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

/// The packages a dnf transaction table (dnf's output before "Is this ok" / --assumeno)
/// installs, upgrades, reinstalls or downgrades, as sorted NEVRAs; removals and the
/// "replacing" lines left out. Copes with rows dnf wraps when a name is long.
std::vector<std::string> dnf_transaction_packages(const std::string& dnf_output);

}  // namespace airgap::test
