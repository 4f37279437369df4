#pragma once
// How a host's update check and upgrade end, told from the Engine's audit log and the host's
// state now: pure decisions, no HTTP. The Engine runs both asynchronously, and a poll can miss
// a status entirely (a quick host is Up again before the next look), so what the Engine logs
// decides, never a status transition the client happened to see.
#include <string>
#include <vector>

#include "repo/hosts/engine_api.hpp"

namespace airgap::repo {

/// The audit log codes that matter (the Engine's AuditLogType).
namespace event_code {
constexpr int maintenance_failed = 17;                // VDS_MAINTENANCE_FAILED
constexpr int migration_failed = 65;                  // VM_MIGRATION_FAILED
constexpr int migration_failed_to_maintenance = 140;  // VM_MIGRATION_FAILED_DURING_MOVE_TO_MAINTENANCE
constexpr int no_host_to_migrate_to = 166;            // VM_MIGRATION_NO_VDS_TO_MIGRATE_TO
constexpr int check_failed = 839;                     // HOST_AVAILABLE_UPDATES_FAILED
constexpr int upgrade_failed = 841;                   // HOST_UPGRADE_FAILED
constexpr int upgrade_finished = 842;                 // HOST_UPGRADE_FINISHED
constexpr int check_finished = 885;                   // HOST_AVAILABLE_UPDATES_FINISHED
constexpr int check_already_running = 886;            // HOST_AVAILABLE_UPDATES_PROCESS_IS_ALREADY_RUNNING
constexpr int check_skipped = 887;                    // HOST_AVAILABLE_UPDATES_SKIPPED_UNSUPPORTED_STATUS
constexpr int upgrade_finished_reboot = 888;          // HOST_UPGRADE_FINISHED_AND_WILL_BE_REBOOTED
}  // namespace event_code

/// Where one host's update check stands, from the events logged since it was asked for.
struct UpdateCheck {
    enum class State {
        pending,  // no answer yet
        found,    // 885 "found updates ...": update_available turns true shortly after
        none,     // 885 "no updates found."
        failed,   // 839, or 887 (a status the check refuses)
    } state = State::pending;
    bool already_running = false;  // 886: another check of the host runs; its answer counts
    std::string detail;            // the Engine's words when it failed
};
UpdateCheck judge_update_check(const std::vector<EngineEvent>& events, const std::string& host_id);

/// Where one host's upgrade stands, from the events logged since it was posted and the host
/// now.
struct UpgradeProgress {
    enum class State {
        running,  // maintenance, installation or the reboot under way
        done,     // the success event and the host back Up (or in Maintenance, where it began)
        failed,   // a failure event (maintenance refused, a migration failed, the upgrade failed)
    } state = State::running;
    bool succeeded = false;  // 842 or 888 seen: what is left is the reboot
    std::string detail;      // the Engine's words when it failed
};
/// The module's rules: 17, 841, 65, 140, 166 fail the host; 888 (the reboot starts) or 842 is
/// the success, and the host is done once it is Up (or Maintenance) after it; Error, or
/// NonOperational / InstallFailed after the success, fail it.
UpgradeProgress judge_upgrade(const std::vector<EngineEvent>& events, const EngineHost& now);

/// Failures of a move to Maintenance among `events` for `host_id` (17, 65, 140, 166), their
/// descriptions joined; empty if none.
std::string maintenance_failure(const std::vector<EngineEvent>& events, const std::string& host_id);

}  // namespace airgap::repo
