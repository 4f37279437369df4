#pragma once
// The rolling upgrade of a cluster's hosts through the Engine (DESIGN.md "Applier: hosts"):
// the preflight rules, then one host at a time, journaled so that a re-run resumes at the
// first host not done.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/engine_api.hpp"

namespace airgap::repo {

/// A host as the rollout sees it (from GET hosts).
struct HostInfo {
    std::string id;
    std::string name;
    std::string status;  // the API's: "up", "non_operational", "maintenance", "install_failed", ...
    bool spm = false;
    std::int64_t max_scheduling_memory = 0;
    bool update_available = false;
};

/// A VM running on a host (from GET vms?search=host=NAME and its hostdevices).
struct VmInfo {
    std::string id;
    std::string name;
    std::string status;
    std::int64_t memory = 0;
    bool pinned = false;        // placement_policy.affinity "pinned"
    bool host_devices = false;  // has host devices attached
    std::string mdev_type;      // custom property mdev_type (vGPU), empty if none
    /// Why it cannot migrate ("pinned to the host", "host devices", "vGPU mdev_type X"), empty if it can.
    std::string non_migratable_reason() const;
};

/// One host of the plan, in rollout order.
struct PlannedHost {
    HostInfo host;
    std::vector<VmInfo> vms;      // running on it now
    std::vector<VmInfo> to_stop;  // non-migratable, shut down before (only with stop_pinned_vms)
};

/// The preflight's result. Rollout order: the SPM host last.
struct RolloutPlan {
    std::string cluster_id;
    std::string cluster_name;
    std::vector<PlannedHost> hosts;
    std::vector<std::string> skipped;  // "host3: Maintenance (skipped)"
};

/// The preflight rules over a snapshot of the cluster; throws ConfigError (nothing changed
/// yet) naming the host and the reason: a single-host cluster, VMs that cannot migrate
/// without `stop_pinned_vms`, or VMs that do not fit into the other Up hosts'
/// max_scheduling_memory. `vms` holds the VMs of each host in `hosts` order. `only` (host
/// names, may be empty) limits the rollout; `resume` names hosts a previous run left
/// unfinished, which stay in the plan whatever their status.
RolloutPlan plan_rollout(const std::string& cluster_id, const std::string& cluster_name,
                         const std::vector<HostInfo>& hosts, const std::vector<std::vector<VmInfo>>& vms,
                         const std::vector<std::string>& only, bool stop_pinned_vms,
                         const std::vector<std::string>& resume = {});

/// "4.0 GiB".
std::string format_gib(std::int64_t bytes);

/// Options of `ovirt-applier hosts` beyond the connection.
struct RolloutOptions {
    std::string cluster;             // empty: the Engine's only cluster
    std::vector<std::string> hosts;  // --host, empty: all
    bool stop_pinned_vms = false;
    bool check_only = false;
    std::chrono::milliseconds phase_timeout = std::chrono::minutes(60);
    std::chrono::milliseconds poll_interval = std::chrono::seconds(5);
    std::filesystem::path state_dir;  // journal and lock
};

/// Progress of the rollout, one line at a time ("host1: installing"). Does nothing by default.
struct RolloutReporter {
    virtual ~RolloutReporter() = default;
    virtual void message(const std::string& line) { (void)line; }
};

/// Runs the rollout (or, with check_only, the preflight and the upgrade checks, then reports
/// the plan and changes nothing). A host's update check ends with the Engine's events (885
/// finished, 839 failed, 887 skipped, read from /events after the newest one before the
/// check): a host with no update, or whose check failed, is skipped at once; without such an
/// event, after phase_timeout. Takes the applier lock and journals under the command
/// "hosts": steps "cluster-upgrade-start", "host:NAME"..., "cluster-upgrade-finish". A failed
/// host throws StepFailed (exit 4) naming it, after finishing the cluster's upgrade mode; a
/// re-run retries it and goes on. SIGINT/SIGTERM (repo/interrupt.hpp) end a wait: the host is
/// journaled as failed and Interrupted (exit 130) thrown.
void run_host_rollout(EngineClient& engine, const RolloutOptions& options, RolloutReporter& reporter);

/// The Engine's name of the host whose name or address is `name_or_address` (this machine's
/// hostname, say); ConfigError when there is none.
std::string engine_host_name(EngineClient& engine, const std::string& name_or_address);
/// Appendix C (`ovirt-applier host --update --engine-url ...`): moves the host called `name`
/// to Maintenance through the Engine (its VMs migrate away) and waits for it, within
/// options.phase_timeout; nothing to do when it is in Maintenance already. Refuses (StepFailed)
/// a host that is unknown or whose VMs cannot migrate.
void deactivate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options,
                     RolloutReporter& reporter);
/// Activates the host called `name` and waits until it is Up; nothing to do when it is Up.
void activate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options,
                   RolloutReporter& reporter);

}  // namespace airgap::repo
