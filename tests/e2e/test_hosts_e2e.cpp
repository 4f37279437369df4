// `ovirt-applier hosts` end to end against the stand-in Engine: each rule and each fault,
// with the exit code and the line a user reads, and the re-run that resumes.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/shared/fake_engine.hpp"

namespace airgap::test {
namespace {

using nlohmann::json;
constexpr long long kGiB = 1LL << 30;

// The applier with fast polling (20 ms) and `extra` options.
CommandResult run_hosts(const FakeEngine& engine, const std::filesystem::path& state,
                        std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"env", "OVIRT_AIRGAP_POLL_MS=20"};
    for (auto& a : engine.applier(state)) argv.push_back(a);
    // 30 s per phase unless the test says otherwise.
    if (std::find(extra.begin(), extra.end(), "--timeout-min") == extra.end())
        extra.insert(extra.end(), {"--timeout-min", "0.5"});
    for (auto& a : extra) argv.push_back(a);
    return run_command(argv);
}

// POST entries of the log that match `what` ("upgrade", "upgradecheck", ...), in order.
std::vector<std::string> posts(const FakeEngine& engine, const std::string& what) {
    std::vector<std::string> out;
    for (const auto& e : engine.log())
        if (e.rfind("POST ", 0) == 0 && e.size() > what.size() &&
            e.compare(e.size() - what.size() - 1, std::string::npos, "/" + what) == 0)
            out.push_back(e);
    return out;
}

// A refusal by the preflight: exit 1 with `message` as the one line, and no host upgraded.
void expect_preflight_refusal(const FakeEngine& engine, const std::filesystem::path& state,
                              const std::string& message) {
    CommandResult r = run_hosts(engine, state);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-applier: error: " + message + "\n");
    EXPECT_TRUE(posts(engine, "upgrade").empty());
}

// The same refusal from a fresh stand-in Engine playing `scenario`.
void expect_preflight_refusal(const json& scenario, const std::string& message) {
    FakeEngine engine(scenario);
    TempDir state;
    expect_preflight_refusal(engine, state.path(), message);
}

// The journal's step `name`; a failure (and an empty object) when it has none, so that what a
// test expects of the step cannot pass unchecked.
json journal_step(const json& journal, const std::string& name) {
    for (const auto& step : journal["steps"])
        if (step["name"] == name) return step;
    ADD_FAILURE() << "no step " << name << " in the journal: " << journal.dump();
    return json::object();
}

std::size_t index_of(const std::vector<std::string>& log, const std::string& entry) {
    return static_cast<std::size_t>(std::find(log.begin(), log.end(), entry) - log.begin());
}

// Waits until the stand-in's state satisfies `done` (the applier runs meanwhile). A deadline,
// not a count of tries: each look at the state starts python, slow on a loaded machine.
template <typename Done>
void wait_until(const FakeEngine& engine, const std::string& what, Done done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        if (done(engine.state())) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "never saw " << what;
}

// Waits until the Engine's log has `entry`.
void wait_for(const FakeEngine& engine, const std::string& entry) {
    wait_until(engine, entry, [&](const json& s) {
        auto log = s["log"].get<std::vector<std::string>>();
        return std::find(log.begin(), log.end(), entry) != log.end();
    });
}

TEST(HostsE2e, RollsEveryHostOneAtATimeWithTheSpmLast) {
    FakeEngine engine(three_host_scenario());
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(posts(engine, "upgrade"),
              (std::vector<std::string>{"POST clusters/Default start/upgrade", "POST hosts/host2/upgrade",
                                        "POST hosts/host3/upgrade", "POST hosts/host1/upgrade",
                                        "POST clusters/Default finish/upgrade"}));
    json s = engine.state();
    for (const char* h : {"host1", "host2", "host3"}) {
        EXPECT_EQ(s["hosts"][h]["upgraded"], 1) << h;
        EXPECT_EQ(s["hosts"][h]["status"], "up") << h;
    }
    // The Engine's reboot: Reboot, NonResponsive while the host boots, then Up.
    EXPECT_EQ(s["hosts"]["host1"]["history"],
              json({"preparing_for_maintenance", "maintenance", "installing", "reboot", "non_responsive", "up"}));
    // The next host starts only once the previous one is Up again after its reboot.
    auto log = engine.log();
    EXPECT_LT(index_of(log, "status host2 up"), index_of(log, "POST hosts/host3/upgrade"));
    EXPECT_LT(index_of(log, "status host3 up"), index_of(log, "POST hosts/host1/upgrade"));
    EXPECT_FALSE(s["clusters"]["Default"].get<bool>());
    // Progress per host, then the summary.
    EXPECT_EQ(lines_with(r.out, "host2: ").front(), "ovirt-applier: host2: checking for updates");
    EXPECT_EQ(lines_with(r.out, "host2: installing").size(), 1u);
    EXPECT_EQ(lines_with(r.out, "done: upgraded").front(),
              "ovirt-applier: rollout of cluster Default done: upgraded host2, host3, host1");
    EXPECT_EQ(engine.log().back(), "logout");
    // The password is nowhere in what the applier leaves behind.
    std::string journal = read_file(state.path() / "journal.json");
    EXPECT_NE(journal.find("\"hosts\""), std::string::npos);
    EXPECT_EQ(journal.find(FakeEngine::password()), std::string::npos);
    EXPECT_EQ(r.out.find(FakeEngine::password()), std::string::npos);
}

TEST(HostsE2e, CheckOnlyPrintsThePlanAndChangesNothing) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["fault"] = "no_update";
    FakeEngine engine(scenario);
    TempDir state;
    // 3 s for the checks: 30 times the stand-in's 100 ms, enough on a loaded machine.
    CommandResult r = run_hosts(engine, state.path(), {"--check-only", "--timeout-min", "0.05"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(posts(engine, "upgradecheck").size(), 3u);
    EXPECT_TRUE(posts(engine, "upgrade").empty());
    EXPECT_EQ(lines_with(r.out, "1. ").front(),
              "ovirt-applier:   1. host2: update available; 1 VMs to migrate (4.0 GiB in all)");
    EXPECT_EQ(lines_with(r.out, "2. ").front(),
              "ovirt-applier:   2. host3: no update available (the Engine's check found none), would be skipped");
    EXPECT_EQ(lines_with(r.out, "3. ").front(),
              "ovirt-applier:   3. host1 (SPM): update available; 2 VMs to migrate (8.0 GiB in all)");
    EXPECT_EQ(lines_with(r.out, "check only").size(), 1u);
    EXPECT_FALSE(std::filesystem::exists(state.path() / "journal.json"));
}

TEST(HostsE2e, InstallFailedStopsTheRolloutAndTheRerunRetriesIt) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["fault"] = "install_failed";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: host3: the upgrade failed: Failed to upgrade Host host3 (User: admin@internal). "
              "(see the host's events in the Engine, then run the same command again to retry it)\n");
    EXPECT_EQ(posts(engine, "upgrade").back(), "POST clusters/Default finish/upgrade");  // also on failure
    json s = engine.state();
    EXPECT_EQ(s["hosts"]["host1"]["upgraded"], 0);  // the SPM host was not touched
    EXPECT_EQ(s["hosts"]["host3"]["status"], "install_failed");
    // The journal says which host failed and why.
    json journal = json::parse(read_file(state.path() / "journal.json"));
    EXPECT_EQ(journal["command"], "hosts");
    EXPECT_EQ(journal_step(journal, "host:host2")["status"], "done");
    json host3 = journal_step(journal, "host:host3");
    EXPECT_EQ(host3["status"], "failed");
    EXPECT_NE(host3["error"].dump().find("Failed to upgrade Host host3"), std::string::npos) << host3.dump();
    EXPECT_EQ(journal_step(journal, "host:host1")["status"], "pending");

    CommandResult again = run_hosts(engine, state.path());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(lines_with(again.out, "resuming").front(),
              "ovirt-applier: resuming the rollout of cluster Default at host:host3");
    s = engine.state();
    EXPECT_EQ(s["hosts"]["host2"]["upgraded"], 1);  // done before: not again
    EXPECT_EQ(s["hosts"]["host3"]["upgraded"], 1);
    EXPECT_EQ(s["hosts"]["host1"]["upgraded"], 1);
    for (const char* h : {"host1", "host2", "host3"}) EXPECT_EQ(s["hosts"][h]["status"], "up") << h;
    // The retry goes through Maintenance again; the update check, which the Engine refuses for
    // an InstallFailed host, is not asked for again.
    auto history = s["hosts"]["host3"]["history"].get<std::vector<std::string>>();
    auto failed = std::find(history.begin(), history.end(), "install_failed");
    ASSERT_NE(failed, history.end());
    EXPECT_EQ(std::vector<std::string>(failed, history.end()),
              (std::vector<std::string>{"install_failed", "preparing_for_maintenance", "maintenance", "installing",
                                        "reboot", "non_responsive", "up"}));
    auto log = engine.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST hosts/host3/upgradecheck"), 1);
}

TEST(HostsE2e, NonResponsiveHostFailsAfterTheTimeout) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["fault"] = "non_responsive";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path(), {"--timeout-min", "0.05"});
    ASSERT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: host2: non responsive after 3 s of its upgrade; check the host, then run the "
              "same command again\n");
    EXPECT_EQ(lines_with(r.out, "host2: non_responsive").size(), 1u);
    // The host comes back by itself: the re-run follows it to Up and goes on.
    engine.control({{"hosts", {{"host2", {{"status", "up"}, {"update_available", false}, {"fault", nullptr}}}}}});
    CommandResult again = run_hosts(engine, state.path());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(lines_with(again.out, "host2: already upgraded").size(), 1u);
    EXPECT_EQ(engine.state()["hosts"]["host1"]["upgraded"], 1);
}

TEST(HostsE2e, BrieflyNonResponsiveHostIsWaitedFor) {
    json scenario = three_host_scenario();
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "host2: non_responsive").size(), 1u);
    EXPECT_EQ(engine.state()["hosts"]["host2"]["upgraded"], 1);
}

TEST(HostsE2e, HostWithoutUpdateIsSkipped) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["fault"] = "no_update";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path(), {"--timeout-min", "0.05"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "host3: no update").front(),
              "ovirt-applier: host3: no update available (the Engine's check found none), skipped");
    EXPECT_EQ(engine.state()["hosts"]["host3"]["upgraded"], 0);
    EXPECT_EQ(lines_with(r.out, "done: upgraded").front(),
              "ovirt-applier: rollout of cluster Default done: upgraded host2, host1");
}

// The Engine tells how a check ended only in its events (885 finished, 839 failed): a failed
// check is reported with the Engine's words; with no event at all the timeout decides.
TEST(HostsE2e, AFailedOrUnansweredUpdateCheckSkipsTheHost) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["fault"] = "check_failed";  // host2
    scenario["hosts"][2]["fault"] = "check_silent";  // host3
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path(), {"--timeout-min", "0.05"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "host2: the Engine's").front(),
              "ovirt-applier: host2: the Engine's update check failed: Failed to check for available updates on host "
              "host2 with message 'Failed to run check-update of host'. (is the bundle staged there? ovirt-applier "
              "host BUNDLE), skipped");
    EXPECT_EQ(lines_with(r.out, "host3: no update").front(),
              "ovirt-applier: host3: no update available after 3 s, skipped");
    EXPECT_EQ(engine.state()["hosts"]["host2"]["upgraded"], 0);
    EXPECT_EQ(engine.state()["hosts"]["host3"]["upgraded"], 0);
    EXPECT_EQ(lines_with(r.out, "done: upgraded").front(),
              "ovirt-applier: rollout of cluster Default done: upgraded host1");
    std::string journal = read_file(state.path() / "journal.json");
    EXPECT_NE(journal.find("update check failed"), std::string::npos) << journal;
}

TEST(HostsE2e, MaintenanceHostIsSkippedAndReported) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["status"] = "maintenance";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "host3").front(), "ovirt-applier: host3: in Maintenance, skipped");
    EXPECT_EQ(engine.state()["hosts"]["host3"]["upgraded"], 0);
}

TEST(HostsE2e, HostOptionLimitsTheRollout) {
    FakeEngine engine(three_host_scenario());
    TempDir state;
    CommandResult r = run_hosts(engine, state.path(), {"--host", "host3"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    json s = engine.state();
    EXPECT_EQ(s["hosts"]["host3"]["upgraded"], 1);
    EXPECT_EQ(s["hosts"]["host1"]["upgraded"], 0);
    EXPECT_EQ(s["hosts"]["host2"]["upgraded"], 0);
}

TEST(HostsE2e, SingleHostClusterIsRefused) {
    json scenario = three_host_scenario();
    scenario["hosts"] = json::array({scenario["hosts"][0]});
    scenario["vms"] = json::array();
    expect_preflight_refusal(scenario,
                             "cluster Default has only one host (host1): a rolling upgrade needs another host to take "
                             "the VMs and the SPM role");
}

// The Engine schedules each VM on one host: 10 GiB free over two hosts does not take a 6 GiB
// VM when neither has 6 GiB.
TEST(HostsE2e, AVmThatFitsNoSingleHostIsRefused) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["max_scheduling_memory"] = 5 * kGiB;
    scenario["hosts"][2]["max_scheduling_memory"] = 5 * kGiB;
    scenario["vms"][0]["memory"] = 6 * kGiB;
    scenario["vms"][1]["memory"] = 2 * kGiB;
    expect_preflight_refusal(scenario,
                             "not enough memory on the other hosts: host1: VM vm1 (6.0 GiB) fits on no other Up host "
                             "(the most room: host2, 5.0 GiB)");
}

// "More than one host" is another host Up: a second host in Maintenance cannot take the SPM.
TEST(HostsE2e, ClusterWithoutAnotherUpHostIsRefused) {
    json scenario = three_host_scenario();
    scenario["hosts"] = json::array({scenario["hosts"][0], scenario["hosts"][1]});
    scenario["hosts"][1]["status"] = "maintenance";
    scenario["vms"] = json::array();
    expect_preflight_refusal(scenario,
                             "cluster Default has no other Up host for host1: a rolling upgrade needs another host to "
                             "take the VMs and the SPM role");
}

TEST(HostsE2e, VmsThatCannotMigrateAreRefusedOrStoppedAndStarted) {
    json scenario = three_host_scenario();
    scenario["vms"].push_back({{"name", "db-pinned"}, {"host", "host2"}, {"pinned", true}});
    scenario["vms"].push_back({{"name", "cad-vgpu"}, {"host", "host3"}, {"mdev_type", "nvidia-22"}});
    scenario["vms"].push_back({{"name", "nic-passthrough"}, {"host", "host3"}, {"host_devices", true}});
    FakeEngine engine(scenario);
    TempDir state;
    expect_preflight_refusal(engine, state.path(),
                             "VMs that cannot migrate must be shut down first (or use --stop-pinned-vms): host2: "
                             "db-pinned (pinned to the host); host3: cad-vgpu (vGPU mdev_type nvidia-22), "
                             "nic-passthrough (host devices)");
    EXPECT_TRUE(posts(engine, "shutdown").empty());

    CommandResult stop = run_hosts(engine, state.path(), {"--stop-pinned-vms"});
    ASSERT_EQ(stop.exit_code, 0) << stop.out << stop.err;
    auto log = engine.log();
    EXPECT_LT(index_of(log, "POST vms/db-pinned/shutdown"), index_of(log, "POST hosts/host2/upgrade"));
    EXPECT_LT(index_of(log, "POST hosts/host2/upgrade"), index_of(log, "POST vms/db-pinned/start"));
    EXPECT_LT(index_of(log, "POST vms/db-pinned/start"), index_of(log, "POST hosts/host3/upgrade"));
    json s = engine.state();
    for (const char* vm : {"db-pinned", "cad-vgpu", "nic-passthrough"}) EXPECT_EQ(s["vms"][vm]["status"], "up") << vm;
    EXPECT_EQ(s["vms"]["db-pinned"]["host"], "host2");
    EXPECT_EQ(lines_with(stop.out, "shutting down VM db-pinned").front(),
              "ovirt-applier: host2: shutting down VM db-pinned (pinned to the host)");
}

TEST(HostsE2e, DroppedConnectionsAndAnExpiredTokenAreRidden) {
    json scenario = three_host_scenario();
    scenario["drop"] = 2;                 // the first two API requests die without an answer
    scenario["hosts"][2]["hold"] = true;  // host3's upgrade waits: the applier polls it meanwhile
    FakeEngine engine(scenario);
    TempDir state;
    auto run = std::async(std::launch::async, [&] { return run_hosts(engine, state.path()); });
    wait_for(engine, "POST hosts/host3/upgrade");
    engine.control({{"expire_tokens", true}});
    engine.control({{"hosts", {{"host3", {{"hold", false}}}}}});
    CommandResult r = run.get();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto log = engine.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "login"), 2);
    EXPECT_EQ(std::count_if(log.begin(), log.end(), [](const std::string& e) { return e.rfind("dropped", 0) == 0; }),
              2);
    EXPECT_EQ(engine.state()["hosts"]["host1"]["upgraded"], 1);
}

// A misspelt --cluster is answered with the clusters the Engine has, and nothing is changed.
TEST(HostsE2e, AnUnknownClusterNamesTheClustersTheEngineHas) {
    json scenario = three_host_scenario();
    scenario["clusters"] = json::array({{{"name", "Default"}}, {{"name", "Production"}}});
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path(), {"--cluster", "Prodution"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.err, "ovirt-applier: error: the Engine " + engine.engine() +
                         " has no cluster named Prodution (its clusters: Default, Production)\n");
    EXPECT_TRUE(posts(engine, "").empty()) << "nothing may be posted";
}

TEST(HostsE2e, EngineGoneMidRolloutFailsAndTheRerunResumes) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["hold"] = true;  // host3 stays mid-upgrade until released: the applier only polls it
    FakeEngine engine(scenario);
    TempDir state;
    auto run = std::async(std::launch::async, [&] { return run_hosts(engine, state.path()); });
    wait_for(engine, "POST hosts/host3/upgrade");
    engine.control({{"drop_all", true}});
    CommandResult r = run.get();
    ASSERT_EQ(r.exit_code, 4) << r.out << r.err;
    // The host's status or its events: whichever poll comes first after the Engine went away.
    EXPECT_EQ(r.err.rfind("ovirt-applier: error: cannot reach the Engine " + engine.engine() + " (GET ", 0), 0u)
        << r.err;
    EXPECT_TRUE(r.err.find("(GET hosts/") != std::string::npos || r.err.find("(GET events?from=") != std::string::npos)
        << r.err;
    engine.control({{"drop_all", false}});
    engine.control({{"hosts", {{"host3", {{"hold", false}}}}}});
    // host3 finishes while no applier runs: the re-run finds it upgraded.
    wait_until(engine, "host3 upgraded and up", [](const json& s) {
        return s["hosts"]["host3"]["upgraded"] == 1 && s["hosts"]["host3"]["status"] == "up";
    });
    CommandResult again = run_hosts(engine, state.path());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(lines_with(again.out, "host3: already upgraded").size(), 1u) << again.out;
    json s = engine.state();
    for (const char* h : {"host1", "host2", "host3"}) EXPECT_EQ(s["hosts"][h]["upgraded"], 1) << h;
}

// SIGINT (as `kill -INT` from another shell: the applier alone) while a host upgrades: the
// wait ends at once, the host is journaled as interrupted, the cluster leaves upgrade mode,
// exit 130 with one line; the re-run follows the host on.
TEST(HostsE2e, InterruptStopsWith130AndTheRerunResumes) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["hold"] = true;
    FakeEngine engine(scenario);
    TempDir state;
    std::vector<std::string> argv = {"env", "OVIRT_AIRGAP_POLL_MS=20"};
    for (auto& a : engine.applier(state.path())) argv.push_back(a);
    StartedCommand run = start_command(argv, state.path() / "applier.out", state.path() / "applier.err");
    wait_until(engine, "host3 upgrading",
               [](const json& s) { return s["hosts"]["host3"]["status"] == "preparing_for_maintenance"; });
    kill(run.pid, SIGINT);
    CommandResult r = run.wait();
    ASSERT_EQ(r.signal, 0) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 130) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: interrupted during step host:host3; run the same command again to resume\n");
    EXPECT_EQ(posts(engine, "upgrade").back(), "POST clusters/Default finish/upgrade");
    json journal = json::parse(read_file(state.path() / "journal.json"));
    json host3 = journal_step(journal, "host:host3");
    EXPECT_EQ(host3["status"], "failed");
    EXPECT_EQ(host3["error"], "interrupted");

    engine.control({{"hosts", {{"host3", {{"hold", false}}}}}});
    CommandResult again = run_hosts(engine, state.path());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(lines_with(again.out, "resuming").front(),
              "ovirt-applier: resuming the rollout of cluster Default at host:host3");
    json s = engine.state();
    for (const char* h : {"host1", "host2", "host3"}) EXPECT_EQ(s["hosts"][h]["upgraded"], 1) << h;
}

TEST(HostsE2e, ConnectionProblemsAreConfigurationErrors) {
    FakeEngine engine(three_host_scenario());
    TempDir state;
    std::vector<std::string> argv = engine.applier(state.path());
    auto with = [&](const std::string& option, const std::string& value) {
        std::vector<std::string> a = argv;
        *(std::find(a.begin(), a.end(), option) + 1) = value;
        return run_command(a);
    };
    CommandResult tls = with("--ca-file", engine.untrusted_ca_file().string());
    EXPECT_EQ(tls.exit_code, 1);
    EXPECT_EQ(tls.err, "ovirt-applier: error: TLS: certificate of " + engine.engine() + " not trusted by " +
                           engine.untrusted_ca_file().string() + "\n");
    CommandResult url = with("--engine-url", "ftp://" + engine.engine());
    EXPECT_EQ(url.exit_code, 1);
    EXPECT_EQ(url.err, "ovirt-applier: error: bad --engine-url 'ftp://" + engine.engine() +
                           "': expected https://ENGINE/ovirt-engine/api\n");
    CommandResult password = with("--password-file", (state.path() / "missing").string());
    EXPECT_EQ(password.exit_code, 1);
    EXPECT_EQ(password.err, "ovirt-applier: error: cannot read the password file " +
                                (state.path() / "missing").string() + ": No such file or directory\n");
    EXPECT_TRUE(engine.log().empty());
}

// The Engine answers POST upgrade at once and moves the host afterwards; when its maintenance
// fails (here a migration) it logs 140, 17 and 841 and the host is Up again. That is a failed
// host, whatever statuses a poll saw, and the rollout stops there.
TEST(HostsE2e, AFailedMaintenanceFailsTheHostWithTheEnginesWords) {
    json scenario = three_host_scenario();
    scenario["vms"][2]["migration_fails"] = true;  // vm3, on host2
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.err.rfind("ovirt-applier: error: host2: the upgrade failed: Migration failed while Host is in "
                          "'preparing for maintenance' state.",
                          0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find("Consider manual intervention: stopping/migrating Vms as Host's state will not turn to "
                         "maintenance while VMs are still running on it.(VM: vm3, Source: host2, Destination: "
                         "<UNKNOWN>). Failed to switch Host host2 to Maintenance mode. Failed to upgrade Host host2 "
                         "(User: admin@internal). (see the host's events in the Engine, then run the same command "
                         "again to retry it)\n"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    // The Engine gives up on the maintenance and brings the host back Up.
    wait_until(engine, "host2 back up", [](const json& st) { return st["hosts"]["host2"]["status"] == "up"; });
    json s = engine.state();
    EXPECT_EQ(s["hosts"]["host2"]["upgraded"], 0);
    EXPECT_EQ(s["hosts"]["host3"]["upgraded"], 0);  // not started after a failed host
    EXPECT_EQ(posts(engine, "upgrade").back(), "POST clusters/Default finish/upgrade");
}

// A host quicker than the poll: Up again before the applier looks twice. Its 888 says it
// was upgraded and rebooted.
TEST(HostsE2e, AHostUpAgainBeforeTheNextPollIsDoneByItsEvents) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["fault"] = "fast";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path(), {"--timeout-min", "0.1"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(engine.state()["hosts"]["host2"]["upgraded"], 1);
    EXPECT_EQ(lines_with(r.out, "done: upgraded").front(),
              "ovirt-applier: rollout of cluster Default done: upgraded host2, host3, host1");
}

// The upgrade's maintenance is internal: the Engine would refuse it for a user_migratable VM.
// The applier migrates such VMs itself first.
TEST(HostsE2e, UserMigratableVmsAreMigratedBeforeTheUpgrade) {
    json scenario = three_host_scenario();
    scenario["vms"][2]["user_migratable"] = true;  // vm3, on host2
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto log = engine.log();
    EXPECT_LT(index_of(log, "POST vms/vm3/migrate"), index_of(log, "POST hosts/host2/upgrade"));
    auto moved = std::find_if(log.begin(), log.end(),
                              [](const std::string& e) { return e.rfind("vm vm3 migrated to host", 0) == 0; });
    EXPECT_LT(static_cast<std::size_t>(moved - log.begin()), index_of(log, "POST hosts/host2/upgrade"));
    EXPECT_EQ(lines_with(r.out, "migrating VM vm3").front(),
              "ovirt-applier: host2: migrating VM vm3 (user_migratable: the upgrade's maintenance would not move it)");
    EXPECT_EQ(engine.state()["hosts"]["host2"]["upgraded"], 1);
}

// clusters/ID/upgrade exists from Engine 4.3.3 on; before, the rollout goes without it.
TEST(HostsE2e, ClusterUpgradeModeNeedsEngine433) {
    json scenario = three_host_scenario();
    scenario["version"] = "4.3.2.1";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "cluster upgrade mode").front(),
              "ovirt-applier: cluster upgrade mode: not in Engine 4.3.2.1 (from 4.3.3 on), going without it");
    for (const auto& e : engine.log()) EXPECT_EQ(e.find("POST clusters/"), std::string::npos) << e;
    EXPECT_EQ(engine.state()["hosts"]["host1"]["upgraded"], 1);
}

// A flag left set (a second start fails) and a failing finish are warnings, not failures.
TEST(HostsE2e, ClusterUpgradeModeFailuresAreWarnings) {
    json scenario = three_host_scenario();
    scenario["clusters"][0]["upgrade_running"] = true;
    scenario["clusters"][0]["fault"] = "finish";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto warnings = lines_with(r.out, "warning: cluster upgrade mode");
    ASSERT_EQ(warnings.size(), 2u) << r.out;
    EXPECT_NE(warnings[0].find("cannot start: the Engine answered POST clusters/"), std::string::npos);
    EXPECT_NE(warnings[0].find("Failed to set upgrade running flag on cluster"), std::string::npos);
    EXPECT_NE(warnings[1].find("cannot finish:"), std::string::npos);
    for (const char* h : {"host1", "host2", "host3"}) EXPECT_EQ(engine.state()["hosts"][h]["upgraded"], 1) << h;
}

// 885 "found updates" comes before the Engine stores update_available (and the upgrade is
// refused until it does): the applier waits for the flag.
TEST(HostsE2e, FoundUpdatesWaitForUpdateAvailable) {
    json scenario = three_host_scenario();
    scenario["flag_delay_ms"] = 1500;
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const char* h : {"host1", "host2", "host3"}) EXPECT_EQ(engine.state()["hosts"][h]["upgraded"], 1) << h;
    EXPECT_EQ(lines_with(r.out, "no update").size(), 0u) << r.out;
}

// 886: a check of the host was already running; its answer is the one to wait for.
TEST(HostsE2e, ACheckAlreadyRunningIsWaitedFor) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["check_running"] = true;  // host2: started before the applier, slow
    scenario["hosts"][1]["check_ms"] = 1500;
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "already runs").front(),
              "ovirt-applier: host2: an update check already runs there: waiting for its answer");
    EXPECT_EQ(engine.state()["hosts"]["host2"]["upgraded"], 1);
}

// A run that loses the Engine while host3 (held there by the scenario) sits in Maintenance:
// exit 4, and the Engine answers again afterwards.
void stop_with_host3_in_maintenance(const FakeEngine& engine, const std::filesystem::path& state) {
    auto run = std::async(std::launch::async, [&] { return run_hosts(engine, state); });
    wait_until(engine, "host3 in maintenance",
               [](const json& s) { return s["hosts"]["host3"]["status"] == "maintenance"; });
    engine.control({{"drop_all", true}});
    CommandResult r = run.get();
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    engine.control({{"drop_all", false}});
}

// A run that stopped while a host sat in Maintenance: the upgrade cannot simply be posted again
// (the Engine refuses it without update_available), so the host is checked afresh; with
// nothing left to update it is activated and counted done.
TEST(HostsE2e, AResumedHostInMaintenanceIsCheckedAgain) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["hold"] = "maintenance";  // host3's upgrade stops there
    FakeEngine engine(scenario);
    TempDir state;
    stop_with_host3_in_maintenance(engine, state.path());
    // Its upgrade goes no further, and there is nothing left to update.
    engine.control(
        {{"hosts",
          {{"host3",
            {{"abandon", true}, {"hold", false}, {"update_available", false}, {"packages_available", false}}}}}});
    CommandResult again = run_hosts(engine, state.path());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(lines_with(again.out, "host3: ").front(), "ovirt-applier: host3: resuming (in Maintenance)");
    EXPECT_EQ(lines_with(again.out, "host3: nothing left").size(), 1u) << again.out;
    json s = engine.state();
    EXPECT_EQ(s["hosts"]["host3"]["status"], "up");
    EXPECT_EQ(s["hosts"]["host1"]["upgraded"], 1);
    auto log = engine.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST hosts/host3/upgrade"), 1);  // not posted again
}

// The same with an update still there: checked, upgraded from Maintenance, then activated.
TEST(HostsE2e, AResumedHostInMaintenanceWithAnUpdateIsUpgradedAndActivated) {
    json scenario = three_host_scenario();
    scenario["hosts"][2]["hold"] = "maintenance";
    FakeEngine engine(scenario);
    TempDir state;
    stop_with_host3_in_maintenance(engine, state.path());
    engine.control({{"hosts", {{"host3", {{"abandon", true}, {"hold", false}, {"update_available", false}}}}}});
    CommandResult again = run_hosts(engine, state.path());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    json s = engine.state();
    EXPECT_EQ(s["hosts"]["host3"]["upgraded"], 1);
    EXPECT_EQ(s["hosts"]["host3"]["status"], "up");
    auto log = engine.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST hosts/host3/activate"), 1);
}

// The Engine's own playbook allows 120 min: that is the default, and the Engine is told
// (it reads `timeout` from 4.3.6.6 on).
TEST(HostsE2e, TheUpgradeCarriesTheTimeoutToEnginesThatReadIt) {
    json scenario = three_host_scenario();
    scenario["hosts"] = json::array({scenario["hosts"][0], scenario["hosts"][1]});
    scenario["vms"] = json::array();
    FakeEngine engine(scenario);
    TempDir state;
    std::vector<std::string> argv = {"env", "OVIRT_AIRGAP_POLL_MS=20"};
    for (auto& a : engine.applier(state.path())) argv.push_back(a);
    CommandResult r = run_command(argv);  // no --timeout-min
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(engine.state()["hosts"]["host2"]["upgrade_bodies"], json::parse(R"([{"reboot": true, "timeout": 120}])"));

    json old = three_host_scenario();
    old["version"] = "4.3.6.5";
    FakeEngine older(old);
    TempDir state2;
    CommandResult r2 = run_hosts(older, state2.path(), {"--host", "host2"});
    ASSERT_EQ(r2.exit_code, 0) << r2.out << r2.err;
    EXPECT_EQ(older.state()["hosts"]["host2"]["upgrade_bodies"], json::parse(R"([{"reboot": true}])"));
}

// An oVirt Node is upgraded by the same flow and always rebooted; 4.3 takes no image for it.
TEST(HostsE2e, AnOvirtNodeIsUpgradedAndRebooted) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["type"] = "ovirt_node";  // host2
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult check = run_hosts(engine, state.path(), {"--check-only"});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_EQ(lines_with(check.out, "1. ").front(),
              "ovirt-applier:   1. host2 (oVirt Node, rebooted): update available; 1 VMs to migrate (4.0 GiB in all)");
    CommandResult r = run_hosts(engine, state.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "host2: upgrade started").front(),
              "ovirt-applier: host2: upgrade started (oVirt Node: it reboots into the new image)");
    json s = engine.state();
    EXPECT_EQ(s["hosts"]["host2"]["upgraded"], 1);
    EXPECT_EQ(s["hosts"]["host2"]["history"],
              json({"preparing_for_maintenance", "maintenance", "installing", "reboot", "non_responsive", "up"}));
    for (const auto& body : s["hosts"]["host2"]["upgrade_bodies"]) EXPECT_FALSE(body.contains("image")) << body;
}

}  // namespace
}  // namespace airgap::test
