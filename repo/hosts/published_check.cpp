#include "repo/hosts/published_check.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/hosts/rollout_plan.hpp"
#include "repo/hosts/upgrade_events_private.hpp"

namespace airgap::repo {

namespace {

constexpr const char* kFound = "found updates for packages ";

// "vdsm-4.30.46-1.el7" (the API's Host.version.full_version) without the name.
std::string vdsm_version(EngineClient& engine, const std::string& host_id) {
    nlohmann::json j = engine.get("hosts/" + host_id);
    if (!j.contains("version") || !j["version"].is_object()) return {};
    std::string full = json_string(j["version"], "full_version");
    return full.rfind("vdsm-", 0) == 0 ? full.substr(5) : full;
}

// The newest 885 description of `host_id` among `events`.
std::string update_message(const std::vector<EngineEvent>& events, const std::string& host_id) {
    std::string out;
    for (const auto& e : events)
        if (e.code == 885 && e.host_id == host_id) out = e.description;
    return out;
}

std::string why_not(EngineClient& engine, const EngineHost& h, const UpdateCheck& check,
                    const std::vector<EngineEvent>& events, const PublishedForHosts& bundle) {
    if (check.state == UpdateCheck::State::failed) return "its update check failed: " + check.detail;
    if (check.state == UpdateCheck::State::pending) return "its update check did not answer";
    if (check.state == UpdateCheck::State::found) {
        for (const auto& name : packages_in_update_message(update_message(events, h.id)))
            if (bundle.targets.count(name)) return {};
        return "its update check found updates, but none of the bundle's packages";
    }
    // No update: fine when the host is at the bundle's version already.
    auto vdsm = bundle.targets.find("vdsm");
    std::string have = vdsm_version(engine, h.id);
    if (vdsm != bundle.targets.end() && !have.empty() && have == vdsm->second) return {};
    return "its update check found no update" + (vdsm != bundle.targets.end() && !have.empty()
                                                     ? ", with vdsm " + have + " below the bundle's " + vdsm->second
                                                     : std::string());
}

}  // namespace

std::vector<std::string> packages_in_update_message(const std::string& description) {
    std::vector<std::string> out;
    auto at = description.find(kFound);
    if (at == std::string::npos) return out;
    std::string list = description.substr(at + std::string(kFound).size());
    list = list.substr(0, list.find('\''));
    std::size_t start = 0;
    while (start < list.size()) {
        std::size_t comma = list.find(',', start);
        std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(" .") + 1);
        if (!name.empty()) out.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

std::vector<std::string> hosts_not_seeing(EngineClient& engine, const RolloutOptions& options,
                                          const PublishedForHosts& bundle, Reporter& reporter) {
    auto clusters = list_clusters(engine, options.cluster);
    if (clusters.size() != 1) return {};  // the rollout names what is wrong with the cluster
    std::vector<EngineHost> hosts;
    for (const auto& h : list_hosts(engine, clusters[0])) {
        bool chosen = options.hosts.empty() ||
                      std::find(options.hosts.begin(), options.hosts.end(), h.name) != options.hosts.end();
        if (chosen && (eligible(h.status) || h.status == HostStatus::maintenance)) hosts.push_back(h);
    }
    std::int64_t since = newest_event_index(engine);
    for (const auto& h : hosts) check_host_updates(engine, h.id);
    reporter.message("asking the Engine whether " + std::to_string(hosts.size()) + " hosts see the published bundle " +
                     bundle.id + " (serial " + std::to_string(bundle.serial) + ")");
    // The checks run on the Engine side in parallel: one deadline for all.
    auto deadline = std::chrono::steady_clock::now() + options.phase_timeout;
    std::vector<EngineEvent> events;
    std::map<std::string, UpdateCheck> checks;
    for (;;) {
        events = events_after(engine, since);
        bool settled = true;
        for (const auto& h : hosts) {
            checks[h.id] = judge_update_check(events, h.id);
            settled = settled && checks[h.id].state != UpdateCheck::State::pending;
        }
        if (settled || std::chrono::steady_clock::now() >= deadline) break;
        throw_if_interrupted("interrupted while the Engine checked the hosts for updates");
        std::this_thread::sleep_for(options.poll_interval);
    }
    std::vector<std::string> out;
    for (const auto& h : hosts)
        if (std::string why = why_not(engine, h, checks[h.id], events, bundle); !why.empty())
            out.push_back(h.name + " (" + why + ")");
    return out;
}

}  // namespace airgap::repo
