#pragma once
// The rolling upgrade's plan: pure rules over a snapshot of the cluster, no Engine needed.
#include <cstdint>
#include <string>
#include <vector>

#include "repo/hosts/engine_api.hpp"

namespace airgap::repo {

/// What the Engine says of a cluster at one moment: its hosts and what runs on them.
struct ClusterSnapshot {
    EngineCluster cluster;
    std::vector<EngineHost> hosts;
    std::vector<std::vector<EngineVm>> vms;  // the VMs running on each host, in `hosts` order
};

/// One host of the plan, in rollout order.
struct PlannedHost {
    EngineHost host;
    std::vector<EngineVm> vms;      // running on it now
    std::vector<EngineVm> to_stop;  // cannot migrate: shut down before (only with stop_pinned_vms)
};

/// The preflight's result. Rollout order: the SPM host last.
struct RolloutPlan {
    EngineCluster cluster;
    std::vector<PlannedHost> hosts;
    std::vector<std::string> skipped;  // "host3: in Maintenance, skipped"
};

/// The preflight rules; throws ConfigError (nothing changed yet) naming the host and the
/// reason: no other Up host to take the VMs and the SPM role, VMs that cannot migrate
/// without `stop_pinned_vms`, or a VM that fits no other Up host's max_scheduling_memory.
/// `only` (host names, may be empty) limits the rollout; `resume` names hosts a previous run
/// left unfinished, which stay in the plan whatever their status.
RolloutPlan plan_rollout(const ClusterSnapshot& snapshot, const std::vector<std::string>& only, bool stop_pinned_vms,
                         const std::vector<std::string>& resume = {});

/// Whether the VMs that must leave `host` can each go to one other Up host of `hosts`, the
/// way the Engine's scheduler places them one VM at a time: largest VM first, into the first
/// host with room for it (max_scheduling_memory), which then has that much less. Empty if
/// they all fit; otherwise "host1: VM big (8.0 GiB) fits on no other Up host (the most room:
/// host2, 6.0 GiB)".
std::string placement_problem(const EngineHost& host, const std::vector<EngineVm>& leaving,
                              const std::vector<EngineHost>& hosts);

/// Hosts of `hosts` other than `host` that are Up.
std::vector<EngineHost> other_up_hosts(const EngineHost& host, const std::vector<EngineHost>& hosts);

/// Whether the rollout takes a host in this status (Up or NonOperational).
bool eligible(HostStatus status);
/// "in Maintenance", "status install_failed".
std::string describe_status(const EngineHost& host);

/// "4.0 GiB".
std::string format_gib(std::int64_t bytes);

}  // namespace airgap::repo
