// `ovirt-applier hosts`: the rolling upgrade of a cluster's hosts through the Engine's REST
// API; the rules and the journal live in repo/hosts/host_rollout.cpp.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "repo/apply/publish.hpp"
#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/hosts/engine_api.hpp"
#include "repo/hosts/host_rollout.hpp"
#include "repo/hosts/published_check.hpp"
#include "repo/state/journal.hpp"

namespace airgap::applier {

namespace {

struct HostsArgs {
    repo::EngineConnection connection;
    repo::RolloutOptions options;
    std::string state_dir;
    std::string config;
    std::string root;
    double timeout_min = 120;  // the Engine's own default for the host upgrade playbook
};

// On an engine that publishes bundles, every host to upgrade must see the current one first.
void require_hosts_see_published(repo::EngineClient& engine, const repo::RolloutOptions& options,
                                 const std::optional<repo::BundleManifest>& m, repo::Reporter& reporter) {
    if (!m || !m->target_versions.count("host")) return;
    repo::PublishedForHosts bundle{m->id, m->serial, m->target_versions.at("host")};
    auto missing = repo::hosts_not_seeing(engine, options, bundle, reporter);
    if (missing.empty()) return;
    std::string names;
    for (const auto& h : missing) names += (names.empty() ? "" : "; ") + h;
    throw ConfigError("not every host sees the published bundle " + m->id + " (serial " + std::to_string(m->serial) +
                      "): " + names + "; enrol them (ovirt-applier host --from-engine https://ENGINE/ovirt-airgap/)");
}

}  // namespace

void add_hosts_command(CLI::App& app) {
    auto args = std::make_shared<HostsArgs>();
    repo::EngineConnection& c = args->connection;
    repo::RolloutOptions& o = args->options;
    auto* cmd = app.add_subcommand("hosts", "Upgrade a cluster's hosts one at a time through the Engine's REST API");
    add_engine_connection_options(cmd, c);
    cmd->add_option("--cluster", o.cluster, "Cluster to upgrade (default: the Engine's only cluster)");
    cmd->add_option("--host", o.hosts, "Upgrade only this host (repeatable)");
    cmd->add_flag("--stop-pinned-vms", o.stop_pinned_vms,
                  "Shut down VMs that cannot migrate (pinned, host devices, vGPU) and start them again after");
    cmd->add_option("--timeout-min", args->timeout_min,
                    "Bound of each wait (a host's whole upgrade, sent to the Engine too), in minutes")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--check-only", o.check_only, "Run the preflight and the upgrade checks, print the plan");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    add_config_option(cmd, args->config);
    cmd->add_option("--root", args->root,
                    "The engine's root: with bundles published under ROOT/var/www/html/ovirt-airgap, every host to "
                    "upgrade must see the current one first (default /)");
    cmd->callback([args] {
        repo::RolloutOptions options = args->options;
        repo::SiteConfig site = site_config(args->config, "");
        options.state_dir = state_dir_for(args->state_dir, "", site);
        options.phase_timeout = std::chrono::milliseconds(static_cast<long long>(args->timeout_min * 60000.0));
        repo::EngineConnection connection = args->connection;
        fill_engine_connection(connection, site);
        require_engine_connection(connection, site);
        apply_poll_override(options, connection);
        repo::EngineClient engine(connection);
        cli::ProgressView reporter = applier_view();
        repo::catch_interrupts();  // Ctrl-C ends a wait at once: exit 130, resumable
        std::filesystem::path engine_root =
            args->root.empty() ? std::filesystem::path() : std::filesystem::absolute(args->root);
        auto published = repo::current_manifest(engine_root);
        require_hosts_see_published(engine, options, published, reporter);
        repo::run_host_rollout(engine, options, reporter);
        // The hosts run the published bundle now: publish may remove what is older.
        if (published && !options.check_only)
            repo::record_rolled_out(options.state_dir, published->id, published->serial);
    });
}

}  // namespace airgap::applier
