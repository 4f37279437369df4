// The preflight rules of the rolling upgrade over snapshots of a cluster (no Engine needed),
// then one run of the library against the stand-in Engine.
#include "repo/host_rollout.hpp"

#include <gtest/gtest.h>

#include "repo/error.hpp"
#include "repo/journal.hpp"
#include "tests/shared/fake_engine.hpp"
#include "tests/shared/testkit.hpp"

namespace airgap::repo {
namespace {

constexpr std::int64_t kGiB = 1LL << 30;

HostInfo host(const std::string& name, const std::string& status = "up", bool spm = false,
              std::int64_t free = 32 * kGiB) {
    return HostInfo{"id-" + name, name, status, spm, free, true};
}

VmInfo vm(const std::string& name, std::int64_t memory = 4 * kGiB) {
    VmInfo v;
    v.id = "id-" + name;
    v.name = name;
    v.status = "up";
    v.memory = memory;
    return v;
}

std::vector<std::string> names(const RolloutPlan& plan) {
    std::vector<std::string> out;
    for (const auto& p : plan.hosts) out.push_back(p.host.name);
    return out;
}

TEST(PlanRollout, RefusesASingleHostCluster) {
    EXPECT_EQ(test::error_of<ConfigError>([] { plan_rollout("c", "Default", {host("host1")}, {{}}, {}, false); }),
              "cluster Default has only one host (host1): a rolling upgrade needs another host to take the VMs and "
              "the SPM role");
}

TEST(PlanRollout, SpmHostGoesLast) {
    auto plan = plan_rollout("c", "Default", {host("a", "up", true), host("b"), host("c")}, {{}, {}, {}}, {}, false);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"b", "c", "a"}));
}

TEST(PlanRollout, OnlyUpAndNonOperationalHostsAreChecked) {
    auto plan =
        plan_rollout("c", "Default",
                     {host("a"), host("b", "maintenance"), host("c", "non_operational"), host("d", "non_responsive")},
                     {{}, {}, {}, {}}, {}, false);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(plan.skipped,
              (std::vector<std::string>{"b: in Maintenance, skipped", "d: status non_responsive, skipped"}));
}

TEST(PlanRollout, AHostLeftUnfinishedStaysInThePlan) {
    auto plan = plan_rollout("c", "Default", {host("a"), host("b", "install_failed")}, {{}, {}}, {"b"}, false, {"b"});
    EXPECT_EQ(names(plan), (std::vector<std::string>{"b"}));
}

TEST(PlanRollout, RefusesWhenTheOtherHostsLackMemory) {
    std::vector<HostInfo> hosts = {host("a", "up", false, 2 * kGiB), host("b", "up", false, 3 * kGiB),
                                   host("c", "maintenance", false, 64 * kGiB)};
    std::vector<std::vector<VmInfo>> vms = {{}, {vm("v1"), vm("v2")}, {}};
    EXPECT_EQ(test::error_of<ConfigError>([&] { plan_rollout("c", "Default", hosts, vms, {}, false); }),
              "not enough memory on the other hosts: b: its VMs need 8.0 GiB but the other Up hosts can take 2.0 GiB "
              "(short by 6.0 GiB)");
}

TEST(PlanRollout, RefusesVmsThatCannotMigrateUnlessTheyMayBeStopped) {
    VmInfo pinned = vm("pinned");
    pinned.pinned = true;
    VmInfo gpu = vm("gpu");
    gpu.mdev_type = "nvidia-22";
    VmInfo pci = vm("pci");
    pci.host_devices = true;
    std::vector<HostInfo> hosts = {host("a"), host("b"), host("c")};
    std::vector<std::vector<VmInfo>> vms = {{pinned, vm("free")}, {gpu}, {pci}};
    EXPECT_EQ(test::error_of<ConfigError>([&] { plan_rollout("c", "Default", hosts, vms, {}, false); }),
              "VMs that cannot migrate must be shut down first (or use --stop-pinned-vms): a: pinned (pinned to the "
              "host); b: gpu (vGPU mdev_type nvidia-22); c: pci (host devices)");
    auto plan = plan_rollout("c", "Default", hosts, vms, {}, true);
    ASSERT_EQ(plan.hosts.size(), 3u);
    ASSERT_EQ(plan.hosts[0].to_stop.size(), 1u);
    EXPECT_EQ(plan.hosts[0].to_stop[0].name, "pinned");
}

TEST(PlanRollout, StoppedVmsNeedNoMemoryElsewhere) {
    VmInfo big = vm("big", 64 * kGiB);
    big.pinned = true;
    auto plan = plan_rollout("c", "Default", {host("a"), host("b")}, {{big}, {}}, {}, true);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"a", "b"}));
}

TEST(PlanRollout, HostOptionLimitsThePlan) {
    auto plan = plan_rollout("c", "Default", {host("a"), host("b"), host("c")}, {{}, {}, {}}, {"c"}, false);
    EXPECT_EQ(names(plan), (std::vector<std::string>{"c"}));
    EXPECT_EQ(test::error_of<ConfigError>([] {
                  plan_rollout("c", "Default", {host("a"), host("b")}, {{}, {}}, {"x"}, false);
              }),
              "no host named x in cluster Default");
}

struct Lines : RolloutReporter {
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

}  // namespace
}  // namespace airgap::repo
