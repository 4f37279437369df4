// The preflight rules of the rolling upgrade over snapshots of a cluster (no Engine needed),
// then one run of the library against the stand-in Engine.
#include "repo/hosts/host_rollout.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <optional>

#include "repo/base/error.hpp"
#include "repo/hosts/poll_private.hpp"
#include "repo/hosts/upgrade_events_private.hpp"
#include "repo/state/journal.hpp"
#include "tests/shared/fake_engine.hpp"
#include "tests/shared/testkit.hpp"

namespace airgap::repo {
namespace {

using nlohmann::json;
constexpr std::int64_t kGiB = 1LL << 30;

EngineHost host(const std::string& name, HostStatus status = HostStatus::up, bool spm = false,
                std::int64_t free = 32 * kGiB) {
    EngineHost h;
    h.id = "id-" + name;
    h.name = name;
    h.status = status;
    h.status_text = status == HostStatus::maintenance       ? "maintenance"
                    : status == HostStatus::non_operational ? "non_operational"
                    : status == HostStatus::non_responsive  ? "non_responsive"
                    : status == HostStatus::install_failed  ? "install_failed"
                                                            : "up";
    h.spm = spm;
    h.max_scheduling_memory = free;
    h.update_available = true;
    return h;
}

EngineVm vm(const std::string& name, std::int64_t memory = 4 * kGiB) {
    EngineVm v;
    v.id = "id-" + name;
    v.name = name;
    v.status = VmStatus::up;
    v.status_text = "up";
    v.memory = memory;
    return v;
}

ClusterSnapshot cluster(std::vector<EngineHost> hosts, std::vector<std::vector<EngineVm>> vms = {}) {
    vms.resize(hosts.size());
    return ClusterSnapshot{{"c", "Default"}, std::move(hosts), std::move(vms)};
}

std::vector<std::string> names(const RolloutPlan& plan) {
    std::vector<std::string> out;
    for (const auto& p : plan.hosts) out.push_back(p.host.name);
    return out;
}

TEST(PlanRollout, RefusesASingleHostCluster) {
    EXPECT_EQ(test::error_of<ConfigError>([] { plan_rollout(cluster({host("host1")}), {}, false); }),
              "cluster Default has only one host (host1): a rolling upgrade needs another host to take the VMs and "
              "the SPM role");
}

// "More than one host" means another host Up: a second host in Maintenance takes no VM.
TEST(PlanRollout, RefusesWhenNoOtherHostIsUp) {
    EXPECT_EQ(test::error_of<ConfigError>([] {
                  plan_rollout(cluster({host("host1"), host("host2", HostStatus::maintenance)}), {}, false);
              }),
              "cluster Default has no other Up host for host1: a rolling upgrade needs another host to take the VMs "
              "and the SPM role");
}

TEST(PlanRollout, SpmHostGoesLast) {
    auto plan = plan_rollout(cluster({host("a", HostStatus::up, true), host("b"), host("c")}), {}, false);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"b", "c", "a"}));
}

TEST(PlanRollout, OnlyUpAndNonOperationalHostsAreChecked) {
    auto plan =
        plan_rollout(cluster({host("a"), host("b", HostStatus::maintenance), host("c", HostStatus::non_operational),
                              host("d", HostStatus::non_responsive), host("e")}),
                     {}, false);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"a", "c", "e"}));
    EXPECT_EQ(plan.skipped,
              (std::vector<std::string>{"b: in Maintenance, skipped", "d: status non_responsive, skipped"}));
}

TEST(PlanRollout, AHostLeftUnfinishedStaysInThePlan) {
    auto plan = plan_rollout(cluster({host("a"), host("b", HostStatus::install_failed)}), {"b"}, false, {"b"});
    EXPECT_EQ(names(plan), (std::vector<std::string>{"b"}));
}

// The scheduler places VMs one at a time: 10 GiB free in all does not take one 8 GiB VM when
// no single host has 8 GiB.
TEST(PlanRollout, EachVmMustFitOneOtherHost) {
    std::vector<EngineHost> hosts = {host("a", HostStatus::up, false, 5 * kGiB),
                                     host("b", HostStatus::up, false, 5 * kGiB),
                                     host("c", HostStatus::up, false, 64 * kGiB)};
    EXPECT_EQ(test::error_of<ConfigError>([&] {
                  plan_rollout(cluster(hosts, {{}, {}, {vm("big", 8 * kGiB)}}), {}, false);
              }),
              "not enough memory on the other hosts: c: VM big (8.0 GiB) fits on no other Up host (the most room: "
              "a, 5.0 GiB)");
    // Largest first, first fit: 5 then 2 into a (7 GiB), 4 into b (5 GiB).
    hosts[0].max_scheduling_memory = 7 * kGiB;
    EXPECT_NO_THROW(
        plan_rollout(cluster(hosts, {{}, {}, {vm("x", 2 * kGiB), vm("y", 5 * kGiB), vm("z", 4 * kGiB)}}), {}, false));
    hosts[0].max_scheduling_memory = 6 * kGiB;
    EXPECT_EQ(test::error_of<ConfigError>([&] {
                  plan_rollout(cluster(hosts, {{}, {}, {vm("x", 2 * kGiB), vm("y", 5 * kGiB), vm("z", 4 * kGiB)}}), {},
                               false);
              }),
              "not enough memory on the other hosts: c: VM x (2.0 GiB) fits on no other Up host (the most room: "
              "a, 1.0 GiB)");
}

TEST(PlanRollout, HostsNotUpTakeNoVm) {
    std::vector<EngineHost> hosts = {host("a", HostStatus::up, false, 2 * kGiB), host("b"),
                                     host("c", HostStatus::maintenance, false, 64 * kGiB)};
    EXPECT_EQ(test::error_of<ConfigError>([&] {
                  plan_rollout(cluster(hosts, {{}, {vm("v1")}, {}}), {}, false);
              }),
              "not enough memory on the other hosts: b: VM v1 (4.0 GiB) fits on no other Up host (the most room: "
              "a, 2.0 GiB)");
}

TEST(PlanRollout, RefusesVmsThatCannotMigrateUnlessTheyMayBeStopped) {
    EngineVm pinned = vm("pinned");
    pinned.affinity = EngineVm::Affinity::pinned;
    EngineVm gpu = vm("gpu");
    gpu.mdev_type = "nvidia-22";
    EngineVm pci = vm("pci");
    pci.host_devices = true;
    EngineVm asked = vm("asked");
    asked.affinity = EngineVm::Affinity::user_migratable;  // migrates when asked: not refused
    auto s = cluster({host("a"), host("b"), host("c")}, {{pinned, vm("free"), asked}, {gpu}, {pci}});
    EXPECT_EQ(test::error_of<ConfigError>([&] { plan_rollout(s, {}, false); }),
              "VMs that cannot migrate must be shut down first (or use --stop-pinned-vms): a: pinned (pinned to the "
              "host); b: gpu (vGPU mdev_type nvidia-22); c: pci (host devices)");
    auto plan = plan_rollout(s, {}, true);
    ASSERT_EQ(plan.hosts.size(), 3u);
    ASSERT_EQ(plan.hosts[0].to_stop.size(), 1u);
    EXPECT_EQ(plan.hosts[0].to_stop[0].name, "pinned");
}

TEST(PlanRollout, StoppedVmsNeedNoMemoryElsewhere) {
    EngineVm big = vm("big", 64 * kGiB);
    big.affinity = EngineVm::Affinity::pinned;
    auto plan = plan_rollout(cluster({host("a"), host("b")}, {{big}, {}}), {}, true);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"a", "b"}));
}

TEST(PlanRollout, HostOptionLimitsThePlan) {
    auto plan = plan_rollout(cluster({host("a"), host("b"), host("c")}), {"c"}, false);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"c"}));
    EXPECT_EQ(test::error_of<ConfigError>([] {
                  plan_rollout(cluster({host("a"), host("b")}), {"x"}, false);
              }),
              "no host named x in cluster Default");
}

// The one bounded wait: stops at the first true answer, gives the last answer at the bound,
// and a signal ends it at once.
TEST(PollUntil, StopsAtTheAnswerOrTheBoundOrASignal) {
    int looks = 0;
    auto answer = poll_until(std::chrono::seconds(10), std::chrono::milliseconds(1), [&]() -> std::optional<int> {
        return ++looks == 3 ? std::optional<int>(42) : std::nullopt;
    });
    EXPECT_EQ(answer, 42);
    EXPECT_EQ(looks, 3);
    looks = 0;
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(poll_until(std::chrono::milliseconds(50), std::chrono::milliseconds(5), [&] { return ++looks < 0; }));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
    EXPECT_GT(looks, 2);
    catch_interrupts();
    clear_interrupt();
    raise(SIGINT);
    start = std::chrono::steady_clock::now();
    EXPECT_THROW(poll_until(std::chrono::minutes(5), std::chrono::seconds(30), [] { return false; }), Interrupted);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    clear_interrupt();
}

EngineEvent event(std::int64_t index, int code, const std::string& description, const std::string& host_id = "id-h") {
    return EngineEvent{index, code, description, host_id};
}

const std::string kFound =
    "Check for available updates on host h was completed successfully with message 'found updates for packages vdsm'.";
const std::string kNone =
    "Check for available updates on host h was completed successfully with message 'no updates found.'.";

TEST(UpdateCheckEvents, TheLastAnswerForTheHostDecides) {
    EXPECT_EQ(judge_update_check({}, "id-h").state, UpdateCheck::State::pending);
    EXPECT_EQ(judge_update_check({event(1, 884, "Started"), event(2, 885, kFound)}, "id-h").state,
              UpdateCheck::State::found);
    EXPECT_EQ(judge_update_check({event(2, 885, kNone)}, "id-h").state, UpdateCheck::State::none);
    EXPECT_EQ(judge_update_check({event(2, 885, kFound, "id-other")}, "id-h").state, UpdateCheck::State::pending);
    UpdateCheck refused = judge_update_check({event(3, 887, "Unsupported host status.")}, "id-h");
    EXPECT_EQ(refused.state, UpdateCheck::State::failed);
    EXPECT_EQ(refused.detail, "Unsupported host status.");
    UpdateCheck busy = judge_update_check({event(3, 886, "Another process is already running.")}, "id-h");
    EXPECT_EQ(busy.state, UpdateCheck::State::pending);
    EXPECT_TRUE(busy.already_running);
}

TEST(UpgradeEvents, SuccessNeedsTheEventAndTheHostUpAgain) {
    EngineHost h = host("h");
    // Up with no event: the upgrade has not even left Up yet.
    EXPECT_EQ(judge_upgrade({event(1, 840, "started")}, h).state, UpgradeProgress::State::running);
    // 888 as the reboot starts: not done while it reboots or does not answer.
    h.status = HostStatus::reboot;
    EXPECT_EQ(judge_upgrade({event(2, 888, "will be rebooted")}, h).state, UpgradeProgress::State::running);
    h.status = HostStatus::non_responsive;
    EXPECT_EQ(judge_upgrade({event(2, 888, "will be rebooted")}, h).state, UpgradeProgress::State::running);
    h.status = HostStatus::up;
    EXPECT_EQ(judge_upgrade({event(2, 888, "will be rebooted")}, h).state, UpgradeProgress::State::done);
    EXPECT_EQ(judge_upgrade({event(2, 842, "completed")}, h).state, UpgradeProgress::State::done);
}

TEST(UpgradeEvents, FailureEventsFailTheHostWhateverItsStatus) {
    EngineHost h = host("h");  // back Up: a poll may never have seen it leave
    UpgradeProgress p =
        judge_upgrade({event(1, 840, "started"), event(2, 17, "Failed to switch Host h to Maintenance mode."),
                       event(3, 841, "Failed to upgrade Host h (User: admin@internal).")},
                      h);
    EXPECT_EQ(p.state, UpgradeProgress::State::failed);
    EXPECT_EQ(p.detail,
              "Failed to switch Host h to Maintenance mode. Failed to upgrade Host h (User: admin@internal).");
    for (int code : {65, 140, 166})
        EXPECT_EQ(judge_upgrade({event(2, code, "migration")}, h).state, UpgradeProgress::State::failed) << code;
    // While the Engine still tries to move the host to maintenance, a failed migration is not
    // the end yet: the upgrade's own 841 (or the host back Up) is.
    h.status = HostStatus::preparing_for_maintenance;
    EXPECT_EQ(judge_upgrade({event(2, 140, "migration")}, h).state, UpgradeProgress::State::running);
    EXPECT_EQ(judge_upgrade({event(2, 140, "migration"), event(3, 841, "Failed to upgrade Host h")}, h).state,
              UpgradeProgress::State::failed);
    h.status = HostStatus::up;
    // Another host's failure is not this one's.
    EXPECT_EQ(judge_upgrade({event(2, 841, "other", "id-x")}, h).state, UpgradeProgress::State::running);
    // A retry starts from InstallFailed: only a new 841 fails it.
    h.status = HostStatus::install_failed;
    EXPECT_EQ(judge_upgrade({event(5, 840, "started")}, h).state, UpgradeProgress::State::running);
    h.status = HostStatus::non_operational;
    EXPECT_EQ(judge_upgrade({event(5, 888, "will be rebooted")}, h).state, UpgradeProgress::State::failed);
}

struct Lines : Reporter {
    std::vector<std::string> lines;
    void message(const std::string& line) override { lines.push_back(line); }
};

TEST(HostRollout, UpgradesEveryHostAndJournalsIt) {
    test::FakeEngine engine(test::three_host_scenario());
    test::TempDir state;
    EngineConnection c{engine.url(), "admin@internal", engine.password_file(), engine.ca_file()};
    EngineClient client(c);
    RolloutOptions o;
    o.state_dir = state.path();
    o.poll_interval = std::chrono::milliseconds(20);
    o.phase_timeout = std::chrono::seconds(20);
    Lines lines;
    run_host_rollout(client, o, lines);
    EXPECT_EQ(lines.lines.back(), "rollout of cluster Default done: upgraded host2, host3, host1");
    auto journal = Journal::load(state.path());
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->command(), "hosts");
    EXPECT_TRUE(journal->complete());
    std::vector<std::string> steps;
    for (const auto& s : journal->steps()) steps.push_back(s.name);
    EXPECT_EQ(steps, (std::vector<std::string>{"cluster-upgrade-start", "host:host2", "host:host3", "host:host1",
                                               "cluster-upgrade-finish"}));
}

TEST(HostRollout, DeactivatesAndActivatesOneHostForAppendixC) {
    test::FakeEngine engine(test::three_host_scenario());
    EngineClient client(EngineConnection{engine.url(), "admin@internal", engine.password_file(), engine.ca_file()});
    RolloutOptions o;
    o.poll_interval = std::chrono::milliseconds(20);
    o.phase_timeout = std::chrono::seconds(20);
    Lines lines;
    deactivate_host(client, "host1", o, lines);
    auto s = engine.state();
    EXPECT_EQ(s["hosts"]["host1"]["status"], "maintenance");
    EXPECT_EQ(s["vms"]["vm1"]["host"], "host2");  // migrated away: the most free memory
    EXPECT_EQ(lines.lines.back(), "host1: maintenance");
    activate_host(client, "host1", o, lines);
    EXPECT_EQ(engine.state()["hosts"]["host1"]["status"], "up");
    EXPECT_EQ(lines.lines.back(), "host1: up");
    EXPECT_THROW(activate_host(client, "nohost", o, lines), StepFailed);
}

// Appendix C decides from the Engine's events too: a migration that fails leaves the host
// preparing for maintenance for good, and the Engine's words say why, long before a timeout.
TEST(HostRollout, AFailedMoveToMaintenanceIsReportedWithTheEnginesWords) {
    json scenario = test::three_host_scenario();
    scenario["vms"][0]["migration_fails"] = true;  // vm1 on host1
    test::FakeEngine engine(scenario);
    EngineClient client(EngineConnection{engine.url(), "admin@internal", engine.password_file(), engine.ca_file()});
    RolloutOptions o;
    o.poll_interval = std::chrono::milliseconds(20);
    o.phase_timeout = std::chrono::minutes(10);
    Lines lines;
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(test::error_of<StepFailed>([&] { deactivate_host(client, "host1", o, lines); }),
              "host1: the Engine could not move it to Maintenance: Migration failed while Host is in 'preparing for "
              "maintenance' state. Consider manual intervention: stopping/migrating Vms as Host's state will not turn "
              "to maintenance while VMs are still running on it.(VM: vm1, Source: host1, Destination: <UNKNOWN>). "
              "(move or stop that VM, then run the same command again)");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes(1));
}

}  // namespace
}  // namespace airgap::repo
