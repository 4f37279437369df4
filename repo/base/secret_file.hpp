#pragma once
// Secrets given as files (a password, a key's passphrase), so that they never appear on a
// command line, in `ps` or in the shell's history.
#include <filesystem>
#include <string>

namespace airgap::repo {

/// The first line of `file`, without its line end. ConfigError "cannot read the WHAT file
/// FILE: REASON" or "the WHAT file FILE is empty" (`what`: "password", "passphrase").
std::string read_secret_file(const std::filesystem::path& file, const std::string& what);

}  // namespace airgap::repo
