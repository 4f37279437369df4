// `ovirt-applier hosts` end to end against the stand-in Engine: each rule and each fault,
// with the exit code and the line a user reads, and the re-run that resumes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
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

std::size_t index_of(const std::vector<std::string>& log, const std::string& entry) {
    return static_cast<std::size_t>(std::find(log.begin(), log.end(), entry) - log.begin());
}

std::string slurp(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
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
    EXPECT_EQ(s["hosts"]["host1"]["history"],
              json({"preparing_for_maintenance", "maintenance", "installing", "reboot", "up"}));
    EXPECT_FALSE(s["clusters"]["Default"].get<bool>());
    // Progress per host, then the summary.
    EXPECT_EQ(lines_with(r.out, "host2: ").front(), "ovirt-applier: host2: checking for updates");
    EXPECT_EQ(lines_with(r.out, "host2: installing").size(), 1u);
    EXPECT_EQ(lines_with(r.out, "done: upgraded").front(),
              "ovirt-applier: rollout of cluster Default done: upgraded host2, host3, host1");
    EXPECT_EQ(engine.log().back(), "logout");
    // The password is nowhere in what the applier leaves behind.
    std::string journal = slurp(state.path() / "journal.json");
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
              "ovirt-applier: error: host3: the upgrade failed (install_failed); see the host's events in the Engine, "
              "then run the same command again to retry it\n");
    EXPECT_EQ(posts(engine, "upgrade").back(), "POST clusters/Default finish/upgrade");  // also on failure
    json s = engine.state();
    EXPECT_EQ(s["hosts"]["host1"]["upgraded"], 0);  // the SPM host was not touched
    EXPECT_EQ(s["hosts"]["host3"]["status"], "install_failed");
    // The journal says which host failed and why.
    json journal = json::parse(slurp(state.path() / "journal.json"));
    EXPECT_EQ(journal["command"], "hosts");
    for (const auto& step : journal["steps"]) {
        if (step["name"] == "host:host2") {
            EXPECT_EQ(step["status"], "done");
        }
        if (step["name"] == "host:host3") {
            EXPECT_EQ(step["status"], "failed");
            EXPECT_NE(step["error"].get<std::string>().find("install_failed"), std::string::npos);
        }
        if (step["name"] == "host:host1") {
            EXPECT_EQ(step["status"], "pending");
        }
    }

    CommandResult again = run_hosts(engine, state.path());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(lines_with(again.out, "resuming").front(),
              "ovirt-applier: resuming the rollout of cluster Default at host:host3");
    s = engine.state();
    EXPECT_EQ(s["hosts"]["host2"]["upgraded"], 1);  // done before: not again
    EXPECT_EQ(s["hosts"]["host3"]["upgraded"], 1);
    EXPECT_EQ(s["hosts"]["host1"]["upgraded"], 1);
    for (const char* h : {"host1", "host2", "host3"}) EXPECT_EQ(s["hosts"][h]["status"], "up") << h;
}

TEST(HostsE2e, NonResponsiveHostFailsAfterTheTimeout) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["fault"] = "non_responsive";
    FakeEngine engine(scenario);
    TempDir state;
    CommandResult r = run_hosts(engine, state.path(), {"--timeout-min", "0.05"});
    ASSERT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: host2: non responsive for 3 s during the upgrade; check the host, then run the "
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
    scenario["hosts"][1]["fault"] = "non_responsive_briefly";
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
    std::string journal = slurp(state.path() / "journal.json");
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
    FakeEngine engine(scenario);
    TempDir state;
    expect_preflight_refusal(engine, state.path(),
                             "cluster Default has only one host (host1): a rolling upgrade needs another host to take "
                             "the VMs and the SPM role");
}

TEST(HostsE2e, TooLittleMemoryOnTheOtherHostsIsRefused) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["max_scheduling_memory"] = 2 * kGiB;
    scenario["hosts"][2]["max_scheduling_memory"] = 3 * kGiB;
    FakeEngine engine(scenario);
    TempDir state;
    expect_preflight_refusal(engine, state.path(),
                             "not enough memory on the other hosts: host1: its VMs need 8.0 GiB but the other Up "
                             "hosts can take 5.0 GiB (short by 3.0 GiB)");
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
    EXPECT_EQ(r.err.rfind("ovirt-applier: error: cannot reach the Engine " + engine.engine() + " (GET hosts/", 0), 0u)
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
    const auto out = state.path() / "applier.out", err = state.path() / "applier.err";
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    wait_until(engine, "host3 upgrading",
               [](const json& s) { return s["hosts"]["host3"]["status"] == "preparing_for_maintenance"; });
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << slurp(out) << slurp(err);
    EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(out) << slurp(err);
    EXPECT_EQ(slurp(err),
              "ovirt-applier: error: interrupted during step host:host3; run the same command again to resume\n");
    EXPECT_EQ(posts(engine, "upgrade").back(), "POST clusters/Default finish/upgrade");
    json journal = json::parse(slurp(state.path() / "journal.json"));
    for (const auto& step : journal["steps"])
        if (step["name"] == "host:host3") {
            EXPECT_EQ(step["status"], "failed");
            EXPECT_EQ(step["error"], "interrupted");
        }

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

}  // namespace
}  // namespace airgap::test
