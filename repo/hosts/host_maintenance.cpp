// Appendix C through the Engine: one host to Maintenance and back, decided as the rollout
// decides (the Engine's events and the host's status, within one bounded wait).
#include <algorithm>

#include "repo/base/error.hpp"
#include "repo/base/text.hpp"
#include "repo/hosts/host_rollout.hpp"
#include "repo/hosts/poll_private.hpp"
#include "repo/hosts/status_watch_private.hpp"
#include "repo/hosts/upgrade_events_private.hpp"

namespace airgap::repo {

namespace {

EngineHost find_host(EngineClient& engine, const std::string& name) {
    for (const auto& h : list_hosts(engine, {}))
        if (h.name == name) return h;
    throw StepFailed("the Engine " + engine.engine_name() + " has no host named " + name);
}

std::string timed_out(const EngineHost& h, const std::string& wanted, const RolloutOptions& o) {
    return h.name + ": still " + h.status_text + " after " + format_duration(o.phase_timeout) + " (waiting for " +
           wanted + ")";
}

}  // namespace

std::string engine_host_name(EngineClient& engine, const std::string& name_or_address) {
    for (const auto& h : list_hosts(engine, {}))
        if (h.name == name_or_address || h.address == name_or_address) return h.name;
    throw ConfigError("the Engine " + engine.engine_name() + " has no host named or addressed " + name_or_address +
                      " (--host-name)");
}

void deactivate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options, Reporter& reporter) {
    EngineHost h = find_host(engine, name);
    if (h.status == HostStatus::maintenance) return reporter.message(name + ": already in Maintenance");
    std::vector<std::string> stuck;
    for (const auto& v : running_vms(engine, name))
        if (!v.non_migratable_reason().empty()) stuck.push_back(v.name + " (" + v.non_migratable_reason() + ")");
    if (!stuck.empty()) {
        throw StepFailed(name + ": VMs that cannot migrate must be shut down first: " + join(stuck, ", "));
    }
    std::int64_t since = newest_event_index(engine);
    deactivate_host_action(engine, h.id);
    reporter.message(name + ": moving to Maintenance");
    StatusWatch watch(name, reporter);
    bool there = poll_until(options.phase_timeout, options.poll_interval, [&] {
        h = get_host(engine, h.id);
        watch.saw(h);
        // A migration that fails leaves the host preparing for maintenance for good: the
        // Engine's events say so long before any timeout.
        std::string failure = maintenance_failure(events_after(engine, since), h.id);
        if (!failure.empty())
            throw StepFailed(name + ": the Engine could not move it to Maintenance: " + failure +
                             " (move or stop that VM, then run the same command again)");
        return h.status == HostStatus::maintenance;
    });
    if (!there) throw StepFailed(timed_out(h, "maintenance", options));
}

void activate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options, Reporter& reporter) {
    EngineHost h = find_host(engine, name);
    if (h.status == HostStatus::up) return reporter.message(name + ": already Up");
    activate_host_action(engine, h.id);
    reporter.message(name + ": activating");
    StatusWatch watch(name, reporter);
    bool up = poll_until(options.phase_timeout, options.poll_interval, [&] {
        h = get_host(engine, h.id);
        watch.saw(h);
        if (h.status == HostStatus::non_operational || h.status == HostStatus::install_failed ||
            h.status == HostStatus::error)
            throw StepFailed(name + ": the Engine could not activate it (" + h.status_text +
                             "); see the host's events in the Engine");
        return h.status == HostStatus::up;
    });
    if (!up) throw StepFailed(timed_out(h, "up", options));
}

}  // namespace airgap::repo
