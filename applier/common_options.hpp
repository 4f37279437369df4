#pragma once
// Options that several applier commands share, registered and resolved in one place so that
// `engine`, `host` and `hosts` spell and default them alike.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "repo/engine_api.hpp"
#include "repo/engine_sequence.hpp"
#include "repo/host_rollout.hpp"

namespace airgap::applier {

/// What `engine` and `host` take about the bundle and the target system.
struct ApplyArgs {
    repo::ApplyOptions options;
    std::string root;
    std::string state_dir;

    /// `options` with --root and --state-dir applied: the state dir defaults to
    /// /var/lib/ovirt-airgap, inside --root when one is given.
    repo::ApplyOptions resolved() const;
};

/// BUNDLE, --trust, --base, --root, --state-dir, --reboot, --package-manager.
void add_apply_options(CLI::App* cmd, ApplyArgs& args);

/// --base BASE: the bundle an incremental bundle was built on.
void add_base_option(CLI::App* cmd, std::filesystem::path& base);

/// --engine-url, --user, --password-file, --ca-file; `required` for `hosts`, optional for `host`.
void add_engine_connection_options(CLI::App* cmd, repo::EngineConnection& connection, bool required);

/// Undocumented, for tests: OVIRT_AIRGAP_POLL_MS polls (and retries) every N ms instead of every 5 s.
void apply_poll_override(repo::RolloutOptions& rollout, repo::EngineConnection& connection);

}  // namespace airgap::applier
