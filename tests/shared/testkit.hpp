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
