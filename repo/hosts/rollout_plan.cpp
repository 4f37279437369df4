#include "repo/hosts/rollout_plan.hpp"

#include <algorithm>
#include <cstdio>

#include "repo/base/error.hpp"
#include "repo/base/text.hpp"

namespace airgap::repo {

namespace {

std::vector<std::string> stuck_list(const std::vector<EngineVm>& vms) {
    std::vector<std::string> out;
    for (const auto& v : vms)
        if (!v.non_migratable_reason().empty()) out.push_back(v.name + " (" + v.non_migratable_reason() + ")");
    return out;
}

bool listed(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

bool eligible(HostStatus status) { return status == HostStatus::up || status == HostStatus::non_operational; }

std::string describe_status(const EngineHost& host) {
    if (host.status == HostStatus::maintenance) return "in Maintenance";
    return "status " + host.status_text;
}

std::string format_gib(std::int64_t bytes) {
    return format_bytes(static_cast<std::uint64_t>(std::max<std::int64_t>(bytes, 0)), ByteUnit::gib);
}

std::vector<EngineHost> other_up_hosts(const EngineHost& host, const std::vector<EngineHost>& hosts) {
    std::vector<EngineHost> out;
    for (const auto& h : hosts)
        if (h.id != host.id && h.status == HostStatus::up) out.push_back(h);
    return out;
}

std::string placement_problem(const EngineHost& host, const std::vector<EngineVm>& leaving,
                              const std::vector<EngineHost>& hosts) {
    std::vector<EngineHost> room = other_up_hosts(host, hosts);
    std::vector<EngineVm> vms = leaving;
    std::stable_sort(vms.begin(), vms.end(), [](const EngineVm& a, const EngineVm& b) { return a.memory > b.memory; });
    for (const auto& v : vms) {
        auto fit = std::find_if(room.begin(), room.end(),
                                [&](const EngineHost& h) { return h.max_scheduling_memory >= v.memory; });
        if (fit != room.end()) {
            fit->max_scheduling_memory -= v.memory;
            continue;
        }
        std::string best = "none";
        auto most = std::max_element(room.begin(), room.end(), [](const EngineHost& a, const EngineHost& b) {
            return a.max_scheduling_memory < b.max_scheduling_memory;
        });
        if (most != room.end()) best = most->name + ", " + format_gib(most->max_scheduling_memory);
        return host.name + ": VM " + v.name + " (" + format_gib(v.memory) +
               ") fits on no other Up host (the most room: " + best + ")";
    }
    return {};
}

RolloutPlan plan_rollout(const ClusterSnapshot& s, const std::vector<std::string>& only, bool stop_pinned_vms,
                         const std::vector<std::string>& resume) {
    RolloutPlan plan;
    plan.cluster = s.cluster;
    const std::string& cluster_name = s.cluster.name;
    if (s.hosts.size() < 2)
        throw ConfigError("cluster " + cluster_name + " has " +
                          (s.hosts.empty() ? std::string("no host") : "only one host (" + s.hosts[0].name + ")") +
                          ": a rolling upgrade needs another host to take the VMs and the SPM role");
    for (const auto& n : only)
        if (std::none_of(s.hosts.begin(), s.hosts.end(), [&](const EngineHost& h) { return h.name == n; }))
            throw ConfigError("no host named " + n + " in cluster " + cluster_name);
    std::vector<std::string> alone, stuck_problems, memory_problems;
    for (std::size_t i = 0; i < s.hosts.size(); ++i) {
        const EngineHost& h = s.hosts[i];
        if (!only.empty() && !listed(only, h.name)) continue;
        if (!listed(resume, h.name) && !eligible(h.status)) {
            plan.skipped.push_back(h.name + ": " + describe_status(h) + ", skipped");
            continue;
        }
        // The VMs and the SPM role need somewhere to go: another host that is Up, not merely
        // another host.
        if (other_up_hosts(h, s.hosts).empty()) alone.push_back(h.name);
        PlannedHost p{h, i < s.vms.size() ? s.vms[i] : std::vector<EngineVm>{}, {}};
        std::vector<EngineVm> leaving, stuck;
        for (const auto& v : p.vms) (v.non_migratable_reason().empty() ? leaving : stuck).push_back(v);
        if (!stuck.empty() && !stop_pinned_vms) stuck_problems.push_back(h.name + ": " + join(stuck_list(stuck), ", "));
        if (stop_pinned_vms) p.to_stop = stuck;
        if (eligible(h.status)) {
            std::string problem = placement_problem(h, leaving, s.hosts);
            if (!problem.empty()) memory_problems.push_back(problem);
        }
        plan.hosts.push_back(std::move(p));
    }
    if (!alone.empty())
        throw ConfigError("cluster " + cluster_name + " has no other Up host for " + join(alone, ", ") +
                          ": a rolling upgrade needs another host to take the VMs and the SPM role");
    if (!stuck_problems.empty())
        throw ConfigError("VMs that cannot migrate must be shut down first (or use --stop-pinned-vms): " +
                          join(stuck_problems, "; "));
    if (!memory_problems.empty())
        throw ConfigError("not enough memory on the other hosts: " + join(memory_problems, "; "));
    // The SPM host last: the SPM role moves once, to a host that is already upgraded.
    std::stable_partition(plan.hosts.begin(), plan.hosts.end(), [](const PlannedHost& p) { return !p.host.spm; });
    return plan;
}

}  // namespace airgap::repo
