#pragma once
// RPM signature checks at build time (gpgcheck=1 repos), with librpm and a private keyring.
#include <filesystem>
#include <vector>

#include "repo/repos/repo_config.hpp"

namespace airgap::repo {

/// Checks that `rpm` is signed by one of `keys` (armored RPM-GPG-KEY files) and that its
/// digests and signatures are intact, with librpm: a private keyring (never the host's rpmdb),
/// every signature and digest check rpm itself makes. A bad package at build time fails the
/// build like a bad input, so this throws airgap::ConfigError (exit 1), one line:
/// "package FILE: not signed" | "package FILE: signed with unknown key ID <keyid>" (or "untrusted",
/// rpm's NOTTRUSTED) | "package FILE: bad signature" | "package FILE: digest mismatch" |
/// "package FILE: not a readable RPM package[ (why)]"; "key KEYFILE: not an armored PGP public key".
/// A key that has expired since it signed still verifies, as with rpm and EL7's yum (oVirt 4.3's
/// key expired in 2021). FILE is the file name only. Thread-safe (serialised: librpm's log is global).
void check_rpm_signature(const std::filesystem::path& rpm, const std::vector<std::filesystem::path>& keys);

/// Fetches each gpgkey of `repo` into `dir` (created if needed) and returns the paths, in the
/// order of repo.gpgkeys. A gpgkey is a URL (file://, http://, https://), an absolute path, or a
/// path relative to `manifest_dir` (the manifest's keys/ live there). Throws ConfigError naming
/// repo and key when one cannot be fetched or is no armored public key.
std::vector<std::filesystem::path> fetch_gpg_keys(const RepoConfig& repo, const std::filesystem::path& manifest_dir,
                                                  const std::filesystem::path& dir);

/// Fetches every gpgkey of the gpgcheck=1 repos among `repos` into a temporary directory and
/// throws ConfigError as fetch_gpg_keys does, or for a gpgcheck=1 repo without a gpgkey: a key
/// that cannot be read is found before anything else is downloaded.
void check_gpg_keys(const std::vector<RepoConfig>& repos, const std::filesystem::path& manifest_dir);

}  // namespace airgap::repo
