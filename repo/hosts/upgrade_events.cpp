#include "repo/hosts/upgrade_events_private.hpp"

#include <algorithm>

namespace airgap::repo {

namespace {

// The Engine's words for a run of events, in their order.
std::string describe_events(const std::vector<EngineEvent>& events, const std::string& host_id,
                            std::initializer_list<int> codes) {
    std::string out;
    for (const auto& e : events) {
        if (e.host_id != host_id || std::find(codes.begin(), codes.end(), e.code) == codes.end()) continue;
        out += (out.empty() ? "" : " ") + e.description;
    }
    // Some of the Engine's texts span lines: one line for the user, single spaces.
    std::string flat;
    for (char c : out) {
        if (c == '\n' || c == '\t') c = ' ';
        if (c == ' ' && !flat.empty() && flat.back() == ' ') continue;
        flat += c;
    }
    return flat;
}

}  // namespace

UpdateCheck judge_update_check(const std::vector<EngineEvent>& events, const std::string& host_id) {
    UpdateCheck check;
    for (const auto& e : events) {
        if (e.host_id != host_id) continue;
        switch (e.code) {
            case event_code::check_already_running:
                check.already_running = true;
                break;
            case event_code::check_finished:
                // HostUpdatesChecker logs the message "no updates found." when there are none,
                // and logs the event before it stores update_available.
                check.state = e.description.find("'no updates found.'") != std::string::npos
                                  ? UpdateCheck::State::none
                                  : UpdateCheck::State::found;
                check.detail.clear();
                break;
            case event_code::check_failed:
            case event_code::check_skipped:
                check.state = UpdateCheck::State::failed;
                check.detail = e.description;
                break;
            default:
                break;
        }
    }
    return check;
}

std::string maintenance_failure(const std::vector<EngineEvent>& events, const std::string& host_id) {
    return describe_events(events, host_id,
                           {event_code::migration_failed, event_code::migration_failed_to_maintenance,
                            event_code::no_host_to_migrate_to, event_code::maintenance_failed});
}

UpgradeProgress judge_upgrade(const std::vector<EngineEvent>& events, const EngineHost& now) {
    UpgradeProgress p;
    std::string failure = describe_events(
        events, now.id,
        {event_code::migration_failed, event_code::migration_failed_to_maintenance, event_code::no_host_to_migrate_to,
         event_code::maintenance_failed, event_code::upgrade_failed});
    if (!failure.empty()) {
        // A failed migration is logged while the Engine still tries to move the host to
        // maintenance; its upgrade flow ends with 841 and the host back where it started. Judged
        // before that end, the same failure would read differently from one poll to the next.
        bool ended = std::any_of(events.begin(), events.end(), [&](const EngineEvent& e) {
            return e.host_id == now.id && e.code == event_code::upgrade_failed;
        });
        if (!ended && (now.status == HostStatus::preparing_for_maintenance || now.status == HostStatus::other))
            return p;
        p.state = UpgradeProgress::State::failed;
        p.detail = failure;
        return p;
    }
    p.succeeded = std::any_of(events.begin(), events.end(), [&](const EngineEvent& e) {
        return e.host_id == now.id &&
               (e.code == event_code::upgrade_finished || e.code == event_code::upgrade_finished_reboot);
    });
    if (now.status == HostStatus::error) {
        p.state = UpgradeProgress::State::failed;
        p.detail = "the host is in status error";
        return p;
    }
    if (!p.succeeded) return p;
    switch (now.status) {
        case HostStatus::up:
        case HostStatus::maintenance:
            p.state = UpgradeProgress::State::done;
            break;
        case HostStatus::install_failed:
        case HostStatus::non_operational:
            p.state = UpgradeProgress::State::failed;
            p.detail = "the host is " + now.status_text + " after its upgrade";
            break;
        default:
            break;  // the reboot: Reboot, NonResponsive, then Up
    }
    return p;
}

}  // namespace airgap::repo
