#pragma once
// A host enrolled with the engine's published bundles (repo/apply/publish.hpp): once checked, its yum
// reads https://ENGINE/ovirt-airgap/current/ for every later bundle, so the Engine's own host
// upgrade (Check for Upgrade / Upgrade) installs whatever the engine publishes next.
// Enrolment checks the served bundle.json as `verify` checks a medium (signature, expiry,
// serial, a bundle for hosts), copies the bundle's GPG keys once their SHA-256 matches the
// signed manifest, writes one repo file per bundle repo (sslcacert: the engine's CA,
// gpgcheck=1, repo_gpgcheck=1 for signed repodata) and holds the upstream repos as staging does
// (repo/apply/held_repos.hpp). What it wrote is recorded in STATE/enrolment.json first, so that
// `--unenrol` takes exactly that away and gives the held repos back.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "repo/apply/engine_sequence.hpp"
#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

struct EnrolOptions {
    std::string url;                  ///< https://ENGINE/ovirt-airgap/ (a trailing '/' is added)
    std::filesystem::path ca_file;    ///< the engine's CA: the HTTPS server must chain to it
    std::filesystem::path trust;      ///< what the bundle's signature must chain to
    std::filesystem::path root;       ///< the host; empty: this machine
    std::filesystem::path state_dir;  ///< empty: Journal::default_state_dir()
};

/// STATE/enrolment.json.
std::filesystem::path enrolment_file(const std::filesystem::path& state_dir);

/// ROOT/etc/yum.repos.d/ovirt-airgap-enrolled-<repo id>.repo.
std::filesystem::path enrolled_repofile(const std::filesystem::path& root, const std::string& repo_id);

/// The repo file text of one bundle repo read from `url` (ending in '/') through `current`.
/// `key_dir`: where the bundle's keys were copied (absolute).
std::string render_enrolled_repofile(const BundleManifest& m, const BundleRepo& repo, const std::string& url,
                                     const std::filesystem::path& ca_file, const std::filesystem::path& key_dir);

/// `ovirt-applier host --from-engine URL`. ConfigError for a bad URL or an engine that cannot be
/// reached; BundleRefused (nothing changed) for a certificate the CA does not vouch for, a
/// bundle.json whose signature does not verify, an expired bundle, a serial below the last one
/// applied here, a bundle not for hosts, a key that does not match the signed manifest.
void enrol_host(const EnrolOptions& options, Reporter& reporter);

/// `ovirt-applier host --unenrol`: removes the enrolled repo files and keys and gives the held
/// upstream repos back exactly as they were. Says so when nothing is enrolled.
void unenrol_host(const std::filesystem::path& state_dir, Reporter& reporter);

/// For `status`: "enrolled with URL (N repo files)", or nothing.
std::vector<std::string> describe_enrolment(const std::filesystem::path& state_dir);

/// The same for `status --json` (docs/journal.md): {"url", "bundle_id" (current when the host
/// enrolled), "repo_files", "keys"}, or null when the host is not enrolled.
nlohmann::json enrolment_json(const std::filesystem::path& state_dir);

}  // namespace airgap::repo
