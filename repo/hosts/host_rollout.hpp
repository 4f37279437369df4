#pragma once
// The rolling upgrade of a cluster's hosts through the Engine: the plan (repo/rollout_plan),
// then one host at a time, each decided from the Engine's events (repo/upgrade_events),
// journaled so that a re-run resumes at the first host not done.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/base/reporter.hpp"
#include "repo/hosts/engine_api.hpp"
#include "repo/hosts/rollout_plan.hpp"

namespace airgap::repo {

/// Options of `ovirt-applier hosts` beyond the connection.
struct RolloutOptions {
    std::string cluster;             // empty: the Engine's only cluster
    std::vector<std::string> hosts;  // --host, empty: all
    bool stop_pinned_vms = false;
    bool check_only = false;
    /// The bound of each wait: an update check, a host's whole upgrade (also sent to the
    /// Engine as the upgrade's own timeout), a VM, a status. The Engine's playbook allows the
    /// host upgrade 120 min by default; less would give up on an upgrade the Engine still runs.
    std::chrono::milliseconds phase_timeout = std::chrono::minutes(120);
    std::chrono::milliseconds poll_interval = std::chrono::seconds(5);
    std::filesystem::path state_dir;  // journal and lock
};

/// Runs the rollout (or, with check_only, the preflight and the update checks, then reports
/// the plan and changes nothing).
///
/// Each host: an update check (its answer is the Engine's event 885/839/887, read from
/// /events after the newest one before the check; after "found updates" update_available is
/// awaited), then its VMs that only move when asked (user_migratable) are migrated, VMs that
/// cannot move are refused or, with stop_pinned_vms, shut down, and the upgrade is posted. The
/// host is done when the Engine logged its success (888 or 842) and it is Up again (from
/// Maintenance it is activated); a failure event (17, 841, 65, 140, 166) fails it at once. A
/// host with no update, or whose check failed, is skipped.
///
/// The cluster's upgrade mode (POST clusters/ID/upgrade, Engine 4.3.3 and later) is set
/// around the hosts; a failure to set or clear it is a warning only. Takes the applier lock
/// and journals under the command "hosts": steps "cluster-upgrade-start", "host:NAME"...,
/// "cluster-upgrade-finish". A failed host throws StepFailed (exit 4) naming it; a re-run
/// retries it and goes on (a host left in Maintenance gets a fresh update check first).
/// SIGINT/SIGTERM end a wait: the host is journaled as failed and Interrupted (exit 130) thrown.
void run_host_rollout(EngineClient& engine, const RolloutOptions& options, Reporter& reporter);

/// The Engine's name of the host whose name or address is `name_or_address` (this machine's
/// hostname, say); ConfigError when there is none.
std::string engine_host_name(EngineClient& engine, const std::string& name_or_address);
/// Appendix C (`ovirt-applier host --update --engine-url ...`): moves the host called `name`
/// to Maintenance through the Engine (its VMs migrate away) and waits for it, within
/// options.phase_timeout; nothing to do when it is in Maintenance already. Refuses (StepFailed)
/// a host that is unknown or whose VMs cannot migrate, and fails with the Engine's words when
/// the Engine logs that the move failed.
void deactivate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options, Reporter& reporter);
/// Activates the host called `name` and waits until it is Up; nothing to do when it is Up.
void activate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options, Reporter& reporter);

}  // namespace airgap::repo
