#pragma once
// Options that several applier commands share, registered and resolved in one place so that
// `engine`, `host` and `hosts` spell and default them alike.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "cli/progress_view.hpp"
#include "repo/apply/engine_sequence.hpp"
#include "repo/base/site_config.hpp"
#include "repo/hosts/engine_api.hpp"
#include "repo/hosts/host_rollout.hpp"

namespace airgap::applier {

/// What `engine` and `host` take about the bundle and the target system.
struct ApplyArgs {
    repo::ApplyOptions options;
    std::string root;
    std::string state_dir;
    std::string config;

    /// The site config this run reads (--config, else applier.conf inside --root).
    repo::SiteConfig site() const;

    /// `options` with --root, --state-dir and the site config applied: the state dir defaults
    /// to /var/lib/ovirt-airgap, inside --root when one is given.
    repo::ApplyOptions resolved(bool need_trust = true) const;
};

/// BUNDLE, --trust, --base, --root, --state-dir, --reboot, --package-manager, --config.
void add_apply_options(CLI::App* cmd, ApplyArgs& args);

/// Where a command reports: the applier's lines ("ovirt-applier: ...") and the output of the
/// programs it runs on stdout; the progress of verifying and staging on stderr, redrawn on a
/// terminal, a clean line every few seconds in a log. SIGINT asks long work to stop.
cli::ProgressView applier_view();

/// --config FILE: the site's defaults for --trust, the Engine connection and --state-dir.
void add_config_option(CLI::App* cmd, std::string& config);

/// The site config: `config` (which must exist) when given, else
/// /etc/ovirt-airgap/applier.conf inside `root` (absent: no defaults).
repo::SiteConfig site_config(const std::string& config, const std::string& root);

/// --state-dir, else the site config's state-dir, else /var/lib/ovirt-airgap inside `root`.
std::filesystem::path state_dir_for(const std::string& state_dir, const std::string& root,
                                    const repo::SiteConfig& site);

/// --trust, else the site config's trust; ConfigError when neither gives one.
void require_trust(std::filesystem::path& trust, const repo::SiteConfig& site);

/// Fills what the command line left out of the Engine connection from the site config.
void fill_engine_connection(repo::EngineConnection& connection, const repo::SiteConfig& site);

/// Before anything is read or changed: a run that changes this system (no --root, no
/// --dry-run) needs root, and the package manager it will run (`uses_package_manager`) must
/// exist. ConfigError, one line, otherwise.
void check_can_apply(const repo::ApplyOptions& options, const std::string& command, bool uses_package_manager);

/// --trust CERT: what the bundle's signature must chain to.
void add_trust_option(CLI::App* cmd, std::filesystem::path& trust);

/// --base BASE: the bundle an incremental bundle was built on.
void add_base_option(CLI::App* cmd, std::filesystem::path& base);

/// --engine-url, --user, --password-file, --ca-file.
void add_engine_connection_options(CLI::App* cmd, repo::EngineConnection& connection);

/// For `hosts`: ConfigError naming the first of the four that neither the command line nor the
/// site config gave.
void require_engine_connection(const repo::EngineConnection& connection, const repo::SiteConfig& site);

/// Undocumented, for tests: OVIRT_AIRGAP_POLL_MS polls (and retries) every N ms instead of every 5 s.
void apply_poll_override(repo::RolloutOptions& rollout, repo::EngineConnection& connection);

}  // namespace airgap::applier
