// `ovirt-applier engine` end to end: a signed bundle of the test world's repos applied to a copy
// of the 4.3.7 engine root with real dnf, checked the way an administrator would: the order of
// the steps the stand-in scripts logged, the setup version engine-setup ran with, the package
// set against a connected `dnf upgrade`, the reboot notice, resume after a failure and a kill -9.
#include <fnmatch.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <thread>

#include "repo/apply/engine_sequence.hpp"
#include "repo/archive/archive.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/spawn.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/journal.hpp"
#include "tests/shared/fake_engine.hpp"
#include "tests/shared/rpm_fixture.hpp"
#include "tests/shared/testkit.hpp"
#include "tests/shared/world_bundle.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;
using namespace airgap::repo;

namespace {

// The first word of each calls.log line with its setup version: "engine-setup 4.3.10.4-1.el7".
std::vector<std::string> calls(const fs::path& root) {
    std::vector<std::string> out;
    for (const auto& line : lines_of(read_file(root / "var/log/ovirt-airgap-test/calls.log"))) {
        std::istringstream words(line);
        std::string tool, version;
        words >> tool >> version;
        out.push_back(tool + " " + version);
    }
    return out;
}

// The steps a run started, in order, from its "step NAME: running" lines.
std::vector<std::string> steps_run(const std::string& out) {
    std::vector<std::string> steps;
    for (const auto& line : lines_of(out)) {
        const std::string prefix = "ovirt-applier: step ";
        if (line.rfind(prefix, 0) == 0 && line.size() > 9 && line.substr(line.size() - 9) == ": running")
            steps.push_back(line.substr(prefix.size(), line.size() - prefix.size() - 9));
    }
    return steps;
}

// path -> content of every file under dir (for /etc/yum.repos.d comparisons).
std::map<std::string, std::string> tree(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = read_file(e.path());
    return files;
}

const WorldBundle& world_bundle() {
    static std::unique_ptr<WorldBundle> made = make_world_bundle();
    return *made;
}

std::vector<std::string> engine_argv(const fs::path& root, const fs::path& state,
                                     const std::vector<std::string>& extra = {}, fs::path bundle = {}) {
    if (bundle.empty()) bundle = world_bundle().bundle;
    std::vector<std::string> argv = applier_argv("engine", bundle, world_bundle().cert, root, state);
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

// engine_argv() with the shell script `text`, written to `pm` (executable), as the package
// manager: a stand-in that interferes at one moment of the run and otherwise runs the world's dnf.
std::vector<std::string> engine_argv_with_script(const fs::path& root, const fs::path& state, const fs::path& pm,
                                                 const std::string& text, const fs::path& bundle = {}) {
    write_file(pm, text);
    fs::permissions(pm, fs::perms::owner_all);
    auto argv = engine_argv(root, state, {}, bundle);
    argv.back() = pm.string();  // --package-manager
    return argv;
}

const std::vector<std::string> kSteps = engine_steps();

// Polls `done` every 50 ms for up to five minutes (a loaded machine); its last answer.
bool wait_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (!done() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return done();
}

// The applier started as a shell job, stdout and stderr to files in `dir`.
StartedCommand start(const std::vector<std::string>& argv, const fs::path& dir) {
    return start_command(argv, dir / "applier.out", dir / "applier.err");
}

// `root` ends as a connected `dnf upgrade -y` of world root `name` leaves it: the same packages
// and, with `repo_files`, the same files in /etc/yum.repos.d.
void expect_like_connected_upgrade(const fs::path& root, const std::string& name, bool repo_files = false) {
    TempDir c;
    EXPECT_EQ(installed_nevras(root), connected_upgrade(name, c.path()));
    if (repo_files) {
        EXPECT_EQ(tree(root / "etc/yum.repos.d"), tree(c.path() / name / "etc/yum.repos.d"));
    }
}

}  // namespace

TEST(EngineE2E, UpdatesTheEngineLikeAConnectedUpgrade) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto repos_before = tree(root / "etc/yum.repos.d");

    CommandResult r = run_command(engine_argv(root, state));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(steps_run(r.out), kSteps);
    EXPECT_EQ(calls(root),
              (std::vector<std::string>{"engine-upgrade-check 4.3.7.2-1.el7", "engine-setup 4.3.10.4-1.el7"}));
    auto log = lines_of(read_file(root / "var/log/ovirt-airgap-test/calls.log"));
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[1], "engine-setup 4.3.10.4-1.el7 --accept-defaults --config-append=" +
                          (state / "engine-setup-answers.conf").string());
    EXPECT_NE(read_file(state / "engine-setup-answers.conf").find("OVESETUP_CORE/engineStop=bool:True"),
              std::string::npos);
    EXPECT_NE(read_file(state / "logs/engine-setup.log").find("stand-in: engine-setup 4.3.10.4-1.el7"),
              std::string::npos);
    EXPECT_NE(r.out.find("ovirt-applier: reboot needed: kernel 3.10.0-1160.el7.x86_64 installed, running "
                         "3.10.0-1062.el7.x86_64\n"),
              std::string::npos)
        << r.out;

    TempDir c;
    EXPECT_EQ(installed_nevras(root), connected_upgrade("engine-4.3.7", c.path()));
    // The repo files end as a connected update leaves them: ours gone, upstream's restored and
    // then updated by ovirt-release43 4.3.10.
    EXPECT_EQ(tree(root / "etc/yum.repos.d"), tree(c.path() / "engine-4.3.7/etc/yum.repos.d"));
    EXPECT_NE(tree(root / "etc/yum.repos.d"), repos_before);

    CommandResult status = run_command({binary("ovirt-applier").string(), "status", "--state-dir", state.string()});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("1000"), std::string::npos) << status.out;

    // Applied: the same bundle again is nothing to do (another one with this serial is a rollback).
    CommandResult again = run_command(engine_argv(root, state));
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find(": already applied, nothing to do\n"), std::string::npos) << again.out;
    EXPECT_EQ(calls(root).size(), 2u) << "nothing ran again";
}

// The administrator's --answer-file wins over the applier's answers: engine-setup (merging
// the files as otopi does) ends with the administrator's values and the applier's others.
TEST(EngineE2E, TheAdministratorsAnswersWin) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path admin = t.path() / "site-answers.conf";
    write_file(admin,
               "[environment:default]\n"
               "OSETUP_RPMDISTRO/requireRollback=bool:False\n"
               "OVESETUP_CONFIG/fqdn = str:engine.example\n");
    CommandResult r = run_command(engine_argv(root, state, {"--answer-file", admin.string()}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto env = lines_of(read_file(root / "var/log/ovirt-airgap-test/engine-setup.env"));
    auto has = [&](const std::string& line) { return std::find(env.begin(), env.end(), line) != env.end(); };
    EXPECT_TRUE(has("OSETUP_RPMDISTRO/requireRollback=bool:False"))
        << read_file(root / "var/log/ovirt-airgap-test/engine-setup.env");
    EXPECT_FALSE(has("OSETUP_RPMDISTRO/requireRollback=bool:True"));
    EXPECT_TRUE(has("OVESETUP_CONFIG/fqdn=str:engine.example"));
    EXPECT_TRUE(has("OVESETUP_CORE/engineStop=bool:True"));
    EXPECT_TRUE(has("OSETUP_RPMDISTRO/enableUpgrade=bool:True"));
    EXPECT_EQ(read_file(state / "engine-setup-answers.conf").find("requireRollback=bool:True"), std::string::npos);
}

// A missing answer file is a configuration error found before anything changes.
TEST(EngineE2E, AMissingAnswerFileIsRefusedBeforeAnyChange) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto before = installed_nevras(root);
    CommandResult r = run_command(engine_argv(root, state, {"--answer-file", (t.path() / "no-such.conf").string()}));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("no-such.conf"), std::string::npos) << r.err;
    EXPECT_EQ(installed_nevras(root), before);
    EXPECT_FALSE(fs::exists(root / "var/log/ovirt-airgap-test/calls.log"));
}

// engine-setup upgrades ovirt-web-ui itself and, with requireRollback, refuses when the
// installed version is not in an enabled repo: a bundle without that copy fails at engine-setup.
TEST(EngineE2E, EngineSetupRefusesABundleWithoutItsRollbackCopies) {
    static std::unique_ptr<WorldBundle> lacking = make_world_bundle({"ovirt-web-ui-1.6.0-1.el7"});
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    CommandResult r = run_command(applier_argv("engine", lacking->bundle, lacking->cert, root, state));
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.err.find("step engine-setup failed"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("Package rollback information is unavailable"), std::string::npos) << r.out;
    auto log = lines_of(read_file(root / "var/log/ovirt-airgap-test/calls.log"));
    EXPECT_NE(std::find(log.begin(), log.end(), "rollback-refused ovirt-web-ui-1.6.0-1.el7.noarch"), log.end());
    auto nevras = installed_nevras(root);
    EXPECT_NE(std::find(nevras.begin(), nevras.end(), "ovirt-web-ui-1.6.0-1.el7.noarch"), nevras.end());
}

TEST(EngineE2E, DryRunPrintsThePlanAndChangesNothing) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto before = installed_nevras(root);
    auto repos = tree(root / "etc");
    CommandResult r = run_command(engine_argv(root, state, {"--dry-run"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("package: kernel-3.10.0-1160.el7.x86_64"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("package: ovirt-engine-wildfly-overlay-17.0.1-1.el7"), std::string::npos);
    EXPECT_EQ(r.out.find("python-jinja2"), std::string::npos);
    EXPECT_NE(r.out.find("target version: ovirt-engine-setup 4.3.10.4-1.el7"), std::string::npos);
    EXPECT_EQ(installed_nevras(root), before);
    EXPECT_EQ(tree(root / "etc"), repos);
    EXPECT_FALSE(fs::exists(state));
    EXPECT_FALSE(fs::exists(root / "var/log/ovirt-airgap-test/calls.log"));

    // From an archive, the same plan (only its metadata are extracted for it).
    fs::path tar = t.path() / "bundle.tar";
    write_tar(world_bundle().bundle, tar);
    CommandResult a = run_command(engine_argv(root, state, {"--dry-run"}, tar));
    ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
    EXPECT_EQ(lines_with(a.out, "package: "), lines_with(r.out, "package: "));
    EXPECT_FALSE(fs::exists(state));
}

TEST(EngineE2E, ResumesAfterAFailingEngineSetupWithoutRepeatingFinishedSteps) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto repos_before = tree(root / "etc/yum.repos.d");
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.exit", "1\n");

    CommandResult failed = run_command(engine_argv(root, state));
    ASSERT_EQ(failed.exit_code, 4) << failed.out << failed.err;
    EXPECT_EQ(failed.err,
              "ovirt-applier: error: step engine-setup failed; run the same command again to resume: engine-setup "
              "exited with 1 (see " +
                  (state / "logs/engine-setup.log").string() + ")\n");
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->step("engine-setup").status, StepStatus::failed);
    EXPECT_EQ(journal->step("update-setup").status, StepStatus::done);
    // Upstream's repo files are back after the failure; only the bundle's own file is added.
    auto repos_now = tree(root / "etc/yum.repos.d");
    std::string ours = "ovirt-airgap-" + journal->bundle().id + ".repo";
    ASSERT_TRUE(repos_now.count(ours));
    repos_now.erase(ours);
    EXPECT_EQ(repos_now, repos_before);

    fs::remove(root / "var/lib/ovirt-airgap-test/engine-setup.exit");
    CommandResult resumed = run_command(engine_argv(root, state));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("ovirt-applier: resuming at step engine-setup\n"), std::string::npos);
    EXPECT_EQ(steps_run(resumed.out),
              (std::vector<std::string>{"engine-setup", "restore-repos", "update", "kernel-check", "unstage"}));
    EXPECT_EQ(calls(root), (std::vector<std::string>{"engine-upgrade-check 4.3.7.2-1.el7",
                                                     "engine-setup 4.3.10.4-1.el7", "engine-setup 4.3.10.4-1.el7"}));
    expect_like_connected_upgrade(root, "engine-4.3.7");
}

namespace {

// SIGKILL to every process whose command line names `program` (the stand-ins of one test root).
void kill_running(const fs::path& program) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string pid = e.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmdline.find(program.string()) != std::string::npos) kill(std::stoi(pid), SIGKILL);
    }
}

}  // namespace

TEST(EngineE2E, CompletesAfterAKill9InTheMiddleOfEngineSetup) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.sleep", "60\n");

    // A power loss in the middle of engine-setup: kill -9 of the applier's process group (it is
    // started as a shell starts a job), then of engine-setup, which runs in a group of its own.
    StartedCommand run = start(engine_argv(root, state), t.path());
    wait_until([&] { return calls(root).size() >= 2; });
    ASSERT_EQ(calls(root).size(), 2u) << "engine-setup never started";
    kill(-run.pid, SIGKILL);
    ASSERT_EQ(run.wait().signal, SIGKILL);
    // engine-setup has a process group of its own (Ctrl-C must not reach it), so that kill did
    // not take it down: the power loss does.
    kill_running(root / "usr/bin/engine-setup");

    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->step("engine-setup").status, StepStatus::running);
    CommandResult status_out = run_command({binary("ovirt-applier").string(), "status", "--state-dir", state.string()});
    EXPECT_EQ(status_out.exit_code, 0);
    EXPECT_NE(status_out.out.find("interrupted"), std::string::npos) << status_out.out;

    fs::remove(root / "var/lib/ovirt-airgap-test/engine-setup.sleep");
    CommandResult resumed = run_command(engine_argv(root, state));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("ovirt-applier: resuming at step engine-setup\n"), std::string::npos);
    EXPECT_EQ(steps_run(resumed.out).front(), "engine-setup");
    EXPECT_EQ(calls(root), (std::vector<std::string>{"engine-upgrade-check 4.3.7.2-1.el7",
                                                     "engine-setup 4.3.10.4-1.el7", "engine-setup 4.3.10.4-1.el7"}));
    expect_like_connected_upgrade(root, "engine-4.3.7", true);
}

namespace {

// SIGKILL to the children of `pid` (a stand-in's `sleep`), so that the stand-in ends.
void kill_children(pid_t pid) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string child = e.path().filename().string();
        if (child.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(stat.substr(close + 1));
        std::string state, ppid;
        fields >> state >> ppid;
        if (ppid == std::to_string(pid)) kill(std::stoi(child), SIGKILL);
    }
}

}  // namespace

// The applier killed alone (kill -9, an OOM kill) while engine-setup runs: engine-setup, in a
// process group of its own, goes on. The same command again refuses, in one line and with the
// exit code of "another ovirt-applier is running", without starting a second engine-setup or
// changing the journal; `status` says so and `abandon` refuses alike. Once the first
// engine-setup has ended, the same command finishes the run.
TEST(EngineE2E, ARerunWaitsForTheEngineSetupAKilledRunLeftRunning) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    const fs::path pids_file = root / "var/log/ovirt-airgap-test/engine-setup.pids";
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.sleep", "600\n");

    StartedCommand run = start(engine_argv(root, state), t.path());
    ASSERT_TRUE(wait_until([&] { return lines_of(read_file(pids_file)).size() == 1; })) << "engine-setup never started";
    const pid_t first = static_cast<pid_t>(std::stoi(lines_of(read_file(pids_file)).front()));
    ASSERT_TRUE(wait_until([&] {
        auto j = Journal::load(state);
        return j && j->step("engine-setup").data.contains("child");
    }));
    kill(-run.pid, SIGKILL);  // the applier's process group: not engine-setup's
    ASSERT_EQ(run.wait().signal, SIGKILL);
    ASSERT_TRUE(process_start_time(first)) << "engine-setup did not outlive the applier";

    const std::string line = "engine-setup (pid " + std::to_string(first) +
                             ") from the interrupted run is still running: wait for it to end (see " +
                             (state / "logs/engine-setup.log").string() + "), then run the same command again";
    const std::string journal_before = read_file(state / "journal.json");
    CommandResult again = run_command(engine_argv(root, state));
    EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
    EXPECT_NE(again.err.find("ovirt-applier: error: " + line + "\n"), std::string::npos) << again.err;
    EXPECT_EQ(lines_of(read_file(pids_file)).size(), 1u) << "a second engine-setup was started";
    EXPECT_TRUE(read_file(state / "journal.json") == journal_before) << "the journal changed";

    CommandResult status_out = run_command({binary("ovirt-applier").string(), "status", "--state-dir", state.string()});
    EXPECT_EQ(status_out.exit_code, 0) << status_out.err;
    EXPECT_NE(status_out.out.find(line + "\n"), std::string::npos) << status_out.out;
    CommandResult as_json =
        run_command({binary("ovirt-applier").string(), "status", "--json", "--state-dir", state.string()});
    ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
    auto child = nlohmann::json::parse(as_json.out)["run"]["running_child"];
    ASSERT_TRUE(child.is_object()) << as_json.out;
    EXPECT_EQ(child.value("pid", 0), first) << as_json.out;
    EXPECT_EQ(child.value("program", ""), "engine-setup") << as_json.out;
    CommandResult abandon = run_command(
        {binary("ovirt-applier").string(), "abandon", "--root", root.string(), "--state-dir", state.string()});
    EXPECT_EQ(abandon.exit_code, 1) << abandon.out;
    EXPECT_NE(abandon.err.find(line), std::string::npos) << abandon.err;
    EXPECT_TRUE(read_file(state / "journal.json") == journal_before) << "the journal changed";

    // The first engine-setup ends (its sleep cut short; its output has no reader any more).
    fs::remove(root / "var/lib/ovirt-airgap-test/engine-setup.sleep");
    kill_children(first);
    ASSERT_TRUE(wait_until([&] { return !process_start_time(first); }));
    CommandResult resumed = run_command(engine_argv(root, state));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("ovirt-applier: resuming at step engine-setup\n"), std::string::npos);
    EXPECT_EQ(lines_of(read_file(pids_file)).size(), 2u);
    EXPECT_EQ(Journal::load(state)->step("engine-setup").status, StepStatus::done);
    expect_like_connected_upgrade(root, "engine-4.3.7", true);
}

// engine-setup's versionlock (ovirt-engine 4.3.10 packaging/setup/ovirt_engine_setup/constants.py,
// RPM_LOCK_LIST_SUFFIXES; applied by plugins/ovirt-engine-setup/ovirt-engine/distro-rpm/packages.py):
// until engine-setup has run, `yum update` leaves these packages at their version.
std::vector<std::string> versionlocked(std::vector<std::string> argv) {
    auto it = std::find(argv.begin(), argv.end(), "--package-manager");
    if (it == argv.end() || it + 1 == argv.end()) throw std::logic_error("no --package-manager to lock");
    *(it + 1) +=
        " --setopt=exclude=ovirt-engine,ovirt-engine-backend,ovirt-engine-dbscripts,ovirt-engine-restapi,"
        "ovirt-engine-tools,ovirt-engine-tools-backup,ovirt-engine-webadmin-portal,ovirt-engine-ui-extensions";
    return argv;
}

// The engine's packages at the bundle's version already (engine-setup ran from an earlier
// medium), the OS not yet updated.
void upgrade_engine_packages(const fs::path& root) {
    auto argv = world_dnf(root);
    argv.insert(argv.end(), {"--setopt=reposdir=" + (world_dir() / "yum.repos.d").string(), "-y", "-q", "upgrade",
                             "ovirt-engine*", "ovirt-engine-setup*"});
    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(EngineE2E, NoEngineUpgradeSkipsTheSetupStepsAndStillUpdatesTheOs) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    upgrade_engine_packages(root);
    fs::path state = t.path() / "state";
    write_file(root / "var/lib/ovirt-airgap-test/engine-upgrade-check.exit", "1\n");
    CommandResult r = run_command(engine_argv(root, state));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(calls(root), std::vector<std::string>{"engine-upgrade-check 4.3.10.4-1.el7"});
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->step("engine-setup").data.value("skipped", ""), "engine-upgrade-check found no upgrade");
    auto nevras = installed_nevras(root);
    EXPECT_NE(std::find(nevras.begin(), nevras.end(), "kernel-3.10.0-1160.el7.x86_64"), nevras.end());
}

// engine-upgrade-check's exit 1 says only that the setup packages have no update (they may
// have been updated by hand): an engine below the bundle's version still gets engine-setup.
TEST(EngineE2E, NoSetupUpdateButAnOldEngineStillRunsEngineSetup) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    write_file(root / "var/lib/ovirt-airgap-test/engine-upgrade-check.exit", "1\n");
    auto argv = versionlocked(engine_argv(root, state));
    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(steps_run(r.out), kSteps);
    EXPECT_EQ(calls(root),
              (std::vector<std::string>{"engine-upgrade-check 4.3.7.2-1.el7", "engine-setup 4.3.10.4-1.el7"}));
}

// engine-setup told not to touch packages (the administrator's offlinePackager answer) and the
// engine versionlocked: the engine stays at 4.3.7, which is a failed step, never "done".
TEST(EngineE2E, AnEngineLeftBelowTheTargetIsAFailedRun) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path admin = t.path() / "offline.conf";
    write_file(admin, "[environment:default]\nOVESETUP_CORE/offlinePackager=bool:True\n");
    auto argv = versionlocked(engine_argv(root, state, {"--answer-file", admin.string()}));
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.err.find("ovirt-engine 4.3.7.2-1.el7 (target 4.3.10.4-1.el7)"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("(serial 1000) done"), std::string::npos) << r.out;
    EXPECT_FALSE(last_applied_serial(state)) << "recorded as applied";
}

TEST(EngineE2E, AnEngineUpgradeCheckErrorFailsTheStepWithExit4) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto before = installed_nevras(root);
    write_file(root / "var/lib/ovirt-airgap-test/engine-upgrade-check.exit", "2\n");
    CommandResult r = run_command(engine_argv(root, state));
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.err.find("step engine-upgrade-check failed"), std::string::npos) << r.err;
    EXPECT_EQ(installed_nevras(root), before);
}

// `argv` in a pid namespace of its own where a "qemu-kvm" (a VM, as EL7 names the process)
// runs: the applier counts only the VMs of its own pid namespace, so the appliers of the tests
// that run beside this one do not count that VM.
CommandResult run_beside_a_vm(const fs::path& dir, const std::vector<std::string>& argv) {
    fs::path qemu = dir / "qemu-kvm";
    fs::copy_file("/bin/sleep", qemu, fs::copy_options::overwrite_existing);
    std::vector<std::string> wrapped = {
        "unshare", "-r", "-p", "-f", "--mount-proc", "sh", "-c", "'" + qemu.string() + "' 120 & sleep 0.2; exec \"$@\"",
        "sh"};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return run_command(wrapped);
}

// `host --update` without the Engine replaces vdsm and qemu under running VMs: refused while a
// VM runs here, unless the administrator says the host is in Maintenance.
TEST(EngineE2E, HostUpdateWithoutTheEngineRefusesWhileVmsRun) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto before = installed_nevras(root);
    std::vector<std::string> argv = applier_argv("host", world_bundle().bundle, world_bundle().cert, root, state);
    argv.push_back("--update");
    CommandResult refused = run_beside_a_vm(t.path(), argv);
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_EQ(line_count(refused.err), 1u) << refused.err;
    EXPECT_NE(refused.err.find("--host-in-maintenance"), std::string::npos) << refused.err;
    EXPECT_EQ(installed_nevras(root), before);
    EXPECT_FALSE(last_applied_serial(state));

    argv.push_back("--host-in-maintenance");
    CommandResult updated = run_beside_a_vm(t.path(), argv);
    ASSERT_EQ(updated.exit_code, 0) << updated.out << updated.err;
    auto nevras = installed_nevras(root);
    EXPECT_NE(std::find(nevras.begin(), nevras.end(), "vdsm-4.30.46-1.el7.x86_64"), nevras.end());
}

// The Engine's host upgrade as the real one runs it: yum through ansible on the host, every
// enabled repo of the host's own configuration, update_cache (ovirt-engine 4.3.10,
// packaging/playbooks/roles/ovirt-host-upgrade/tasks/main.yml, "Update system"), with EL7's
// skip_if_unavailable=False default (yum 3.4.3 yum/config.py, RepoConf).
CommandResult engines_host_upgrade(const fs::path& root) {
    return run_command({(world_dir() / "bin/dnf").string(), "--installroot", root.string(),
                        "--setopt=reposdir=" + (root / "etc/yum.repos.d").string(),
                        "--setopt=skip_if_unavailable=False", "-y", "upgrade"});
}

// A host staged for the Engine holds its upstream repos (unreachable offline) so that the
// Engine's upgrade works from the bundle alone; --unstage gives them back byte for byte, and
// status says what is held meanwhile.
TEST(EngineE2E, AStagedHostHoldsItsUpstreamReposForTheEnginesUpgrade) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto repos_before = tree(root / "etc/yum.repos.d");

    // Offline, the host's own repos fail the Engine's upgrade (what the Engine reports as event 839).
    TempDir u;
    fs::path unstaged = copy_world_root("host-4.3.7", u.path());
    EXPECT_NE(engines_host_upgrade(unstaged).exit_code, 0) << "the simulated upgrade is not strict";

    std::vector<std::string> argv = applier_argv("host", world_bundle().bundle, world_bundle().cert, root, state);
    CommandResult staged = run_command(argv);
    ASSERT_EQ(staged.exit_code, 0) << staged.out << staged.err;
    CommandResult status = run_command({binary("ovirt-applier").string(), "status", "--state-dir", state.string()});
    EXPECT_NE(status.out.find((root / "etc/yum.repos.d/CentOS-Base.repo").string() + " (base, updates, extras"),
              std::string::npos)
        << status.out;

    // Staged twice (a newer bundle, or the same again): the originals held are still the first ones.
    ASSERT_EQ(run_command(argv).exit_code, 0);
    CommandResult upgrade = engines_host_upgrade(root);
    ASSERT_EQ(upgrade.exit_code, 0) << upgrade.out << upgrade.err;
    auto nevras = installed_nevras(root);
    EXPECT_NE(std::find(nevras.begin(), nevras.end(), "vdsm-4.30.46-1.el7.x86_64"), nevras.end());

    CommandResult unstage = run_command({binary("ovirt-applier").string(), "host", "--unstage", "--root", root.string(),
                                         "--state-dir", state.string()});
    ASSERT_EQ(unstage.exit_code, 0) << unstage.out << unstage.err;
    auto repos_after = tree(root / "etc/yum.repos.d");
    for (const auto& [file, content] : repos_before) EXPECT_EQ(repos_after[file], content) << file;
    for (const auto& [file, content] : repos_after)
        EXPECT_EQ(file.rfind("ovirt-airgap-", 0), std::string::npos) << file << " left behind";
    EXPECT_FALSE(fs::exists(state / "staged") && !fs::is_empty(state / "staged"));
    CommandResult after = run_command({binary("ovirt-applier").string(), "status", "--state-dir", state.string()});
    EXPECT_EQ(after.out.find("held for bundle"), std::string::npos) << after.out;
}

// Staged and unstaged without anything else: every repo file exactly as before.
TEST(EngineE2E, UnstagingGivesTheReposBackExactly) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto before = tree(root / "etc/yum.repos.d");
    ASSERT_EQ(run_command(applier_argv("host", world_bundle().bundle, world_bundle().cert, root, state)).exit_code, 0);
    EXPECT_NE(tree(root / "etc/yum.repos.d"), before);
    CommandResult unstage = run_command({binary("ovirt-applier").string(), "host", "--unstage", "--root", root.string(),
                                         "--state-dir", state.string()});
    ASSERT_EQ(unstage.exit_code, 0) << unstage.out << unstage.err;
    EXPECT_EQ(tree(root / "etc/yum.repos.d"), before);
}

TEST(EngineE2E, HostStagesTheBundleForTheEngineAndUpdatesWithUpdate) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    std::vector<std::string> argv = applier_argv("host", world_bundle().bundle, world_bundle().cert, root, state);
    CommandResult staged = run_command(argv);
    ASSERT_EQ(staged.exit_code, 0) << staged.out << staged.err;
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    fs::path repofile = root / "etc/yum.repos.d" / ("ovirt-airgap-" + journal->bundle().id + ".repo");
    EXPECT_TRUE(fs::exists(repofile));

    argv.push_back("--update");
    CommandResult updated = run_command(argv);
    ASSERT_EQ(updated.exit_code, 0) << updated.out << updated.err;
    EXPECT_NE(updated.out.find("reboot needed: kernel 3.10.0-1160.el7.x86_64 installed"), std::string::npos);
    EXPECT_FALSE(fs::exists(repofile));
    auto nevras = installed_nevras(root);
    EXPECT_NE(std::find(nevras.begin(), nevras.end(), "vdsm-4.30.46-1.el7.x86_64"), nevras.end());

    argv.push_back("--engine-url");
    argv.push_back("https://engine.invalid/ovirt-engine/api");
    CommandResult half = run_command(argv);
    EXPECT_EQ(half.exit_code, 1);
    EXPECT_EQ(half.err, "ovirt-applier: error: --engine-url needs --user, --password-file and --ca-file\n");
}

// A host staged for the Engine keeps its bundle until a newer one replaces it; then the earlier
// one's repo file and extracted copy go, so that neither piles up on the host.
TEST(EngineE2E, StagingANewerBundleOnAHostRemovesTheEarlierOne) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path tar = t.path() / "first.tar";
    write_tar(world_bundle().bundle, tar);
    CommandResult first = run_command(applier_argv("host", tar, world_bundle().cert, root, state));
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    std::string first_id = Journal::load(state)->bundle().id;
    EXPECT_TRUE(fs::exists(root / "etc/yum.repos.d" / ("ovirt-airgap-" + first_id + ".repo")));
    EXPECT_TRUE(fs::exists(state / "staged" / first_id));

    std::unique_ptr<WorldBundle> newer = make_world_bundle();
    CommandResult second = run_command(applier_argv("host", newer->bundle, newer->cert, root, state));
    ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
    std::string second_id = Journal::load(state)->bundle().id;
    ASSERT_NE(second_id, first_id);
    EXPECT_NE(second.out.find("removed earlier bundle " + first_id + " (its repo file and staged copy)"),
              std::string::npos)
        << second.out;
    EXPECT_FALSE(fs::exists(root / "etc/yum.repos.d" / ("ovirt-airgap-" + first_id + ".repo")));
    EXPECT_FALSE(fs::exists(state / "staged" / first_id));
    EXPECT_TRUE(fs::exists(root / "etc/yum.repos.d" / ("ovirt-airgap-" + second_id + ".repo")));
    EXPECT_TRUE(fs::exists(newer->bundle / "bundle.json")) << "a directory bundle is the operator's, never removed";
}

TEST(EngineE2E, AppliesAnIsoBundleStagedByExtractionAndUnstagesIt) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path iso = t.path() / "bundle.iso";
    write_iso(world_bundle().bundle, iso, "OVIRT_AIRGAP");
    CommandResult r = run_command(engine_argv(root, state, {}, iso));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_NE(r.out.find("staged a verified copy at " + (state / "staged" / journal->bundle().id).string()),
              std::string::npos)
        << r.out;
    EXPECT_FALSE(fs::exists(state / "staged" / journal->bundle().id));
    expect_like_connected_upgrade(root, "engine-4.3.7");
}

TEST(EngineE2E, RefusesATamperedRpmAndLeavesTheRootAlone) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path bundle = t.path() / "bundle";
    fs::copy(world_bundle().bundle, bundle, fs::copy_options::recursive);
    fs::path rpm;
    for (const auto& e : fs::directory_iterator(bundle / "repos/ovirt-4.3/Packages"))
        if (e.path().filename().string().rfind("ovirt-engine-setup-base-4.3.10", 0) == 0) rpm = e.path();
    ASSERT_FALSE(rpm.empty());
    {
        std::fstream f(rpm, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(200);
        f.put('\x5a');
    }
    auto nevras = installed_nevras(root);
    auto etc = tree(root / "etc");
    CommandResult r = run_command(engine_argv(root, state, {}, bundle));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(r.err, "ovirt-applier: error: checksum mismatch for '" + fs::relative(rpm, bundle).string() + "'\n");
    EXPECT_EQ(installed_nevras(root), nevras);
    EXPECT_EQ(tree(root / "etc"), etc);
    EXPECT_FALSE(fs::exists(root / "var/log/ovirt-airgap-test/calls.log"));
}

TEST(EngineE2E, AnUpdateThatDoesNotResolveIsExit3WithNothingTouched) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto broken = make_world_bundle({"ovirt-engine-wildfly-overlay"});
    auto nevras = installed_nevras(root);
    auto etc = tree(root / "etc");
    std::vector<std::string> argv = engine_argv(root, state, {}, broken->bundle);
    argv[4] = broken->cert.string();
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("ovirt-engine-wildfly-overlay"), std::string::npos) << r.err;
    EXPECT_EQ(installed_nevras(root), nevras);
    EXPECT_EQ(tree(root / "etc"), etc);
}

// A hosted engine is told by the engine's database, as engine-setup tells it (he.py): the
// HostedEngine VM, the host it runs on, and that host's ha_global_maintenance. Refused before
// anything changes while global maintenance is off; hosted-engine.conf (a host's file) says nothing.
TEST(EngineE2E, AHostedEngineNeedsGlobalMaintenanceInTheEngineDatabase) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path db = root / "var/lib/ovirt-airgap-test/db";
    write_file(db / "vdc_options", "HostedEngineVmName|general|he-vm\n");
    write_file(db / "vms", "he-vm|6b0f1e2a-0000-4000-8000-000000000001|host-1-id\nother|x|host-2-id\n");
    write_file(db / "vds_statistics", "host-1-id|f\nhost-2-id|t\n");
    auto etc = tree(root / "etc");
    auto before = installed_nevras(root);
    CommandResult r = run_command(engine_argv(root, state));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("he-vm runs on host host-1-id"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hosted-engine --set-maintenance --mode=global"), std::string::npos) << r.err;
    EXPECT_EQ(tree(root / "etc"), etc);
    EXPECT_EQ(installed_nevras(root), before);
    EXPECT_FALSE(fs::exists(root / "var/log/ovirt-airgap-test/calls.log"));

    write_file(db / "vds_statistics", "host-1-id|t\n");  // hosted-engine --set-maintenance --mode=global
    CommandResult ok = run_command(engine_argv(root, state));
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST(EngineE2E, HostedEngineConfOnTheEngineIsNotAHostedEngine) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    write_file(root / "etc/ovirt-hosted-engine/hosted-engine.conf", "vm_disk_id=x\n");
    CommandResult r = run_command(engine_argv(root, state, {"--dry-run"}));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    // The check asked the database, with the password from the engine's own configuration.
    EXPECT_NE(read_file(root / "var/log/ovirt-airgap-test/psql.log").find("from vms where vm_name = 'HostedEngine'"),
              std::string::npos);
}

TEST(EngineE2E, OneApplierAtATimePerStateDir) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::create_directories(state);
    FileLock held(Journal::lock_file(state));
    CommandResult r = run_command(engine_argv(root, state));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-applier: error: another ovirt-applier is running (lock " +
                         Journal::lock_file(state).string() + " held by pid " + std::to_string(getpid()) + ")\n");
    EXPECT_FALSE(fs::exists(root / "var/log/ovirt-airgap-test/calls.log"));
}

namespace {

// A package manager that, while HOLD exists, is still at work on `update ovirt*setup*` when the
// test presses Ctrl-C (it says so in STARTED); otherwise the world's dnf.
fs::path holding_package_manager(const fs::path& dir) {
    fs::path script = dir / "pm.sh";
    const std::string hold = (dir / "HOLD").string(), started = (dir / "STARTED").string();
    const std::string dnf = (world_dir() / "bin/dnf").string();
    std::string text = "#!/bin/sh\n";
    text += "case \"$*\" in *'ovirt*setup*'*)\n";
    text += "  if [ -e '" + hold + "' ]; then touch '" + started + "'; sleep 120; exit 1; fi;;\n";
    text += "esac\n";
    text += "exec '" + dnf + "' \"$@\"\n";
    write_file(script, text);
    fs::permissions(script, fs::perms::owner_all);
    return script;
}

}  // namespace

// Ctrl-C while the package manager updates the setup packages: both stop, the step is journaled
// as interrupted, exit 130 with one line, and the same command resumes there.
TEST(EngineE2E, CtrlCDuringAPackageStepStopsWith130AndTheRerunResumes) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto repos_before = tree(root / "etc/yum.repos.d");
    fs::path pm = holding_package_manager(t.path());
    write_file(t.path() / "HOLD", "");
    auto argv = engine_argv(root, state);
    argv[argv.size() - 1] = pm.string();  // --package-manager

    StartedCommand run = start(argv, t.path());
    ASSERT_TRUE(wait_until([&] { return fs::exists(t.path() / "STARTED"); })) << "update-setup never started";
    kill(-run.pid, SIGINT);  // the terminal's Ctrl-C: the whole process group
    CommandResult r = run.wait();
    EXPECT_EQ(r.signal, 0) << "killed by its own SIGINT, not exited";
    EXPECT_EQ(r.exit_code, 130) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: interrupted during step update-setup; run the same command again to resume\n");
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->step("update-setup").status, StepStatus::failed);
    EXPECT_EQ(journal->step("update-setup").error.rfind("interrupted", 0), 0u) << journal->step("update-setup").error;
    EXPECT_EQ(journal->step("engine-upgrade-check").status, StepStatus::done);
    EXPECT_EQ(calls(root), std::vector<std::string>{"engine-upgrade-check 4.3.7.2-1.el7"});  // no engine-setup
    // Upstream's repo files are back, as after a failure.
    auto repos_now = tree(root / "etc/yum.repos.d");
    repos_now.erase("ovirt-airgap-" + journal->bundle().id + ".repo");
    EXPECT_EQ(repos_now, repos_before);

    fs::remove(t.path() / "HOLD");
    CommandResult resumed = run_command(argv);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("ovirt-applier: resuming at step update-setup\n"), std::string::npos);
    EXPECT_EQ(steps_run(resumed.out).front(), "update-setup");
    expect_like_connected_upgrade(root, "engine-4.3.7");
}

// engine-setup must not be stopped once started: Ctrl-C (and a lost session's SIGHUP) reach
// only the applier, engine-setup finishes, and then the run stops with 130; the same command
// goes on from the next step.
TEST(EngineE2E, CtrlCDuringEngineSetupLetsItFinishThenStopsWith130) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.sleep", "3\n");
    StartedCommand run = start(engine_argv(root, state), t.path());
    wait_until([&] { return calls(root).size() >= 2; });
    ASSERT_EQ(calls(root).size(), 2u) << "engine-setup never started";
    kill(-run.pid, SIGINT);
    kill(-run.pid, SIGHUP);
    CommandResult r = run.wait();
    EXPECT_EQ(r.signal, 0) << "killed by its own SIGINT, not exited";
    ASSERT_EQ(r.exit_code, 130) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: interrupted after step engine-setup; run the same command again to resume\n");
    EXPECT_NE(read_file(state / "logs/engine-setup.log").find("stand-in: engine-setup 4.3.10.4-1.el7"),
              std::string::npos);
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->step("engine-setup").status, StepStatus::done);
    EXPECT_EQ(journal->step("restore-repos").status, StepStatus::pending);

    CommandResult resumed = run_command(engine_argv(root, state));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_EQ(steps_run(resumed.out), (std::vector<std::string>{"restore-repos", "update", "kernel-check", "unstage"}));
    EXPECT_EQ(calls(root).size(), 2u) << "engine-setup ran once";
    expect_like_connected_upgrade(root, "engine-4.3.7");
}

namespace {

// The Engine knows this host (the world's host root is host1.airgap.invalid) and another one to
// take its VM.
nlohmann::json appendix_c_scenario() {
    const long long gib = 1LL << 30;
    return nlohmann::json{
        {"transition_ms", 100},
        {"clusters", nlohmann::json::array({{{"name", "Default"}}})},
        {"hosts", nlohmann::json::array({{{"name", "host1.airgap.invalid"}, {"max_scheduling_memory", 32 * gib}},
                                         {{"name", "host2"}, {"spm", true}, {"max_scheduling_memory", 32 * gib}}})},
        {"vms", nlohmann::json::array({{{"name", "vm1"}, {"host", "host1.airgap.invalid"}, {"memory", 4 * gib}}})},
    };
}

std::vector<std::string> host_update_argv(const FakeEngine& engine, const fs::path& root, const fs::path& state,
                                          const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{"env",
                                  "OVIRT_AIRGAP_POLL_MS=20",
                                  binary("ovirt-applier").string(),
                                  "host",
                                  world_bundle().bundle.string(),
                                  "--trust",
                                  world_bundle().cert.string(),
                                  "--root",
                                  root.string(),
                                  "--state-dir",
                                  state.string(),
                                  "--package-manager",
                                  (world_dir() / "bin/dnf").string(),
                                  "--update",
                                  "--engine-url",
                                  engine.url(),
                                  "--user",
                                  "admin@internal",
                                  "--password-file",
                                  engine.password_file().string(),
                                  "--ca-file",
                                  engine.ca_file().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::size_t line_index(const std::string& out, const std::string& line) {
    auto lines = lines_of(out);
    return static_cast<std::size_t>(std::find(lines.begin(), lines.end(), line) - lines.begin());
}

}  // namespace

// Appendix C: Maintenance through the Engine, the update, the reboot notice; after the reboot
// the same command activates the host.
TEST(EngineE2E, HostUpdateThroughTheEngineGoesToMaintenanceAndTheRerunActivates) {
    FakeEngine engine(appendix_c_scenario());
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto argv = host_update_argv(engine, root, state);  // no --host-name: the root's hostname

    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string host = "host1.airgap.invalid";
    // In Maintenance (its VM gone elsewhere) before the package manager ran.
    std::size_t maintenance = line_index(r.out, "ovirt-applier: " + host + ": maintenance");
    std::size_t update = line_index(r.out, "ovirt-applier: step update: running");
    ASSERT_LT(maintenance, lines_of(r.out).size()) << r.out;
    EXPECT_LT(maintenance, update) << r.out;
    nlohmann::json s = engine.state();
    EXPECT_EQ(s["hosts"][host]["status"], "maintenance");
    EXPECT_EQ(s["hosts"][host]["history"], nlohmann::json({"preparing_for_maintenance", "maintenance"}));
    EXPECT_EQ(s["vms"]["vm1"]["host"], "host2");
    auto log = s["log"].get<std::vector<std::string>>();
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST hosts/" + host + "/deactivate"), 1);
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST hosts/" + host + "/activate"), 0);
    // Updated, and told to reboot before activation.
    auto nevras = installed_nevras(root);
    EXPECT_NE(std::find(nevras.begin(), nevras.end(), "vdsm-4.30.46-1.el7.x86_64"), nevras.end());
    EXPECT_NE(std::find(nevras.begin(), nevras.end(), "kernel-3.10.0-1160.el7.x86_64"), nevras.end());
    EXPECT_NE(r.out.find("ovirt-applier: reboot needed: kernel 3.10.0-1160.el7.x86_64 installed, running "
                         "3.10.0-1062.el7.x86_64\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("ovirt-applier: " + host +
                         " stays in Maintenance: reboot, then run the same command again to activate it\n"),
              std::string::npos)
        << r.out;
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->step("unstage").status, StepStatus::done);
    EXPECT_EQ(journal->step("activate").status, StepStatus::pending);
    EXPECT_FALSE(fs::exists(root / "etc/yum.repos.d" / ("ovirt-airgap-" + journal->bundle().id + ".repo")));

    // After the reboot: the same command resumes at activate and nothing else.
    CommandResult again = run_command(argv);
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("ovirt-applier: resuming at step activate\n"), std::string::npos) << again.out;
    EXPECT_EQ(steps_run(again.out), std::vector<std::string>{"activate"});
    EXPECT_EQ(engine.state()["hosts"][host]["status"], "up");
    EXPECT_EQ(installed_nevras(root), nevras);
    EXPECT_FALSE(fs::exists(root / "etc/yum.repos.d" / ("ovirt-airgap-" + journal->bundle().id + ".repo")));
    journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_TRUE(journal->complete());
}

TEST(EngineE2E, HostUpdateStopsWithExit4WhenTheEngineCannotDeactivateTheHost) {
    nlohmann::json scenario = appendix_c_scenario();
    scenario["vms"].push_back({{"name", "db"}, {"host", "host1.airgap.invalid"}, {"pinned", true}});
    FakeEngine engine(scenario);
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto before = installed_nevras(root);
    CommandResult r = run_command(host_update_argv(engine, root, state, {"--host-name", "host1.airgap.invalid"}));
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: step maintenance failed; run the same command again to resume: "
              "host1.airgap.invalid: VMs that cannot migrate must be shut down first: db (pinned to the host)\n");
    EXPECT_EQ(installed_nevras(root), before);
    EXPECT_EQ(engine.state()["hosts"]["host1.airgap.invalid"]["status"], "up");
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    EXPECT_EQ(journal->step("maintenance").status, StepStatus::failed);
    EXPECT_EQ(journal->step("update").status, StepStatus::pending);
}

TEST(EngineE2E, HostUpdateWithAHostTheEngineDoesNotKnowIsExit1) {
    FakeEngine engine(appendix_c_scenario());
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto before = installed_nevras(root);
    CommandResult r = run_command(host_update_argv(engine, root, state, {"--host-name", "nosuchhost"}));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.err, "ovirt-applier: error: the Engine " + engine.engine() +
                         " has no host named or addressed nosuchhost (--host-name)\n");
    EXPECT_EQ(installed_nevras(root), before);
    auto log = engine.log();
    EXPECT_EQ(std::count_if(log.begin(), log.end(), [](const std::string& e) { return e.rfind("POST", 0) == 0; }), 0);
    // The host's address works as well as its name.
    CommandResult by_address =
        run_command(host_update_argv(engine, root, state, {"--host-name", "host2.example.com", "--dry-run"}));
    EXPECT_EQ(by_address.exit_code, 0) << by_address.out << by_address.err;
    EXPECT_NE(by_address.out.find("ovirt-applier: the Engine knows this host as host2\n"), std::string::npos)
        << by_address.out;
}

// --- what is verified is what is used ------------------------------------------------------

namespace {

// What an attacker who can write to a medium brings: ovirt-release43-99 (empty: installing it
// takes the upstream repo files away), signed with a key of their own. Made once per binary.
struct Attack {
    TempDir dir;
    fs::path rpm, key;
};

const Attack& attack() {
    static std::unique_ptr<Attack> made = [] {
        auto a = std::make_unique<Attack>();
        fs::path gnupg = a->dir.path() / "gnupg";
        fs::create_directories(gnupg);
        fs::permissions(gnupg, fs::perms::owner_all);
        const std::string uid = "attacker@airgap.invalid", home = "GNUPGHOME=" + gnupg.string();
        must({"env", home, "gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "",
              "--quick-gen-key", "attacker <" + uid + ">", "rsa2048", "sign", "never"});
        a->key = a->dir.path() / "attacker.key";
        CommandResult k = run_command({"env", home, "gpg", "--batch", "--armor", "--export", uid});
        write_file(a->key, k.out);
        a->rpm = build_tiny_rpm(a->dir.path() / "build", TinyRpm{"ovirt-release43", "99", "", "", ""});
        must({"env", home, "GPG_TTY=/dev/null", "rpmsign", "--define", "%__gpg /usr/bin/gpg", "--define",
              "_gpg_name " + uid, "--define", "_gpg_path " + gnupg.string(), "--addsign", a->rpm.string()});
        run_command({"env", home, "gpgconf", "--kill", "gpg-agent"});
        return a;
    }();
    return *made;
}

// The attack on a directory `bundle` (or a staged copy): the package added to the ovirt-4.3
// repo, its metadata regenerated, the key appended to the bundle's key file. As a shell
// command, for a package manager wrapper to run at the worst moment.
std::string tamper_command(const fs::path& bundle) {
    fs::path repo = bundle / "repos/ovirt-4.3";
    return "cp '" + attack().rpm.string() + "' '" + (repo / "Packages").string() + "/' && cat '" +
           attack().key.string() + "' >> '" + (bundle / "keys/RPM-GPG-KEY-airgap-world").string() +
           "' && createrepo_c --quiet '" + repo.string() + "'";
}

void tamper(const fs::path& bundle) { must({"sh", "-c", tamper_command(bundle)}); }

bool has_attacker_package(const fs::path& root) {
    auto nevras = installed_nevras(root);
    return std::any_of(nevras.begin(), nevras.end(),
                       [](const std::string& n) { return n.rfind("ovirt-release43-99", 0) == 0; });
}

// What the Engine's host upgrade does on a staged host: the package manager with the host's own
// repo configuration, the bundle's repos only (the upstream ones point where nothing answers).
CommandResult host_repos_update(const fs::path& root) {
    return run_command({(world_dir() / "bin/dnf").string(), "--installroot", root.string(),
                        "--setopt=reposdir=" + (root / "etc/yum.repos.d").string(), "-y", "--disablerepo=*",
                        "--enablerepo=ovirt-airgap-*", "update"});
}

// The root ends as a connected update of world root `name` leaves it: the attacker's package is
// not there.
void expect_connected_and_no_attack(const fs::path& root, const std::string& name) {
    EXPECT_FALSE(has_attacker_package(root));
    expect_like_connected_upgrade(root, name);
}

fs::path copy_of_world_bundle(const fs::path& dir) {
    fs::path bundle = dir / "bundle";
    fs::create_directories(dir);
    fs::copy(world_bundle().bundle, bundle, fs::copy_options::recursive);
    return bundle;
}

}  // namespace

// A directory medium changed after verify, in the same run (here: just before the package
// manager first runs): what the package manager reads is the copy hashed while staged.
TEST(EngineE2E, AMediumChangedAfterVerifyIsNotWhatIsInstalled) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path bundle = copy_of_world_bundle(t.path());
    fs::path pm = t.path() / "pm.sh";
    auto argv =
        engine_argv_with_script(root, state, pm,
                                "#!/bin/sh\n[ -e '" + (t.path() / "done").string() + "' ] || { " +
                                    tamper_command(bundle) + " && touch '" + (t.path() / "done").string() +
                                    "'; } || exit 99\nexec '" + (world_dir() / "bin/dnf").string() + "' \"$@\"\n",
                                bundle);
    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_TRUE(fs::exists(t.path() / "done")) << "the medium was never changed";
    expect_connected_and_no_attack(root, "engine-4.3.7");
}

// Between a failed run and its re-run the medium changes (new package, regenerated repodata, a
// key appended): the re-run uses the staged copy, hashed again, and ends as an uninterrupted
// run would. A staged copy changed meanwhile is staged again from the medium, hashed.
TEST(EngineE2E, AResumedRunUsesTheStagedCopyCheckedAgainNeverTheChangedMedium) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path bundle = copy_of_world_bundle(t.path());
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.exit", "1\n");
    ASSERT_EQ(run_command(engine_argv(root, state, {}, bundle)).exit_code, 4);
    std::string id = Journal::load(state)->bundle().id;
    fs::path staged = state / "staged" / id;

    // The staged copy changed: it is refused and staged again from the (still good) medium.
    tamper(staged);
    CommandResult again = run_command(engine_argv(root, state, {}, bundle));
    EXPECT_EQ(again.exit_code, 4) << again.out << again.err;
    EXPECT_NE(again.out.find("ovirt-applier: staged copy " + staged.string() +
                             " does not match the signed manifest (staged copy " + staged.string() + " holds '"),
              std::string::npos)
        << again.out;
    EXPECT_FALSE(fs::exists(staged / "repos/ovirt-4.3/Packages" / attack().rpm.filename()));

    // The medium changed: the staged copy, checked again, is what the package manager reads.
    tamper(bundle);
    fs::remove(root / "var/lib/ovirt-airgap-test/engine-setup.exit");
    CommandResult resumed = run_command(engine_argv(root, state, {}, bundle));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    expect_connected_and_no_attack(root, "engine-4.3.7");
}

// `host` without --update: the repo file the Engine's host upgrade reads points (baseurl and
// gpgkey) only into the private staged copy; a medium changed afterwards changes nothing.
TEST(EngineE2E, AStagedHostsRepoFilePointsOnlyIntoThePrivateCopy) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path bundle = copy_of_world_bundle(t.path());
    CommandResult r = run_command(applier_argv("host", bundle, world_bundle().cert, root, state));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string id = Journal::load(state)->bundle().id;
    std::string repofile = read_file(root / "etc/yum.repos.d" / ("ovirt-airgap-" + id + ".repo"));
    const std::string staged = "file://" + (state / "staged" / id).string() + "/";
    for (const auto& line : lines_of(repofile)) {
        std::string value = line.substr(line.find_first_not_of(' '));
        if (line.rfind("baseurl=", 0) == 0 || line.rfind("gpgkey=", 0) == 0)
            value = line.substr(line.find('=') + 1);
        else if (line.rfind(" ", 0) != 0)
            continue;  // gpgkey's continuation lines start with spaces
        EXPECT_EQ(value.rfind(staged, 0), 0u) << line;
    }
    EXPECT_EQ(repofile.find(bundle.string()), std::string::npos) << repofile;

    // The Engine's host upgrade, later: yum with the host's own repo configuration.
    tamper(bundle);
    CommandResult update = host_repos_update(root);
    ASSERT_EQ(update.exit_code, 0) << update.out << update.err;
    expect_connected_and_no_attack(root, "host-4.3.7");
}

// An image is never mounted (the kernel would read the medium long after verify, and the mount
// is gone after a reboot): it is copied, and the staged repo outlives the medium.
TEST(EngineE2E, AnIsoIsCopiedNeverMountedAndTheStagingOutlivesIt) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path iso = t.path() / "bundle.iso";
    write_iso(world_bundle().bundle, iso, "OVIRT_AIRGAP");
    // A `mount` that would succeed (it copies the image's files to the mount point) and says so.
    fs::path bin = t.path() / "bin";
    // (mount -t iso9660 -o OPTIONS IMAGE DIR)
    write_file(bin / "mount", "#!/bin/sh\necho \"$@\" >> '" + (t.path() / "mount.log").string() +
                                  "'\nexec bsdtar -xf \"$5\" -C \"$6\"\n");
    fs::permissions(bin / "mount", fs::perms::owner_all);
    std::vector<std::string> argv{"env", "PATH=" + bin.string() + ":" + std::string(getenv("PATH"))};
    for (const auto& a : applier_argv("host", iso, world_bundle().cert, root, state)) argv.push_back(a);
    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_FALSE(fs::exists(t.path() / "mount.log")) << read_file(t.path() / "mount.log");
    std::string id = Journal::load(state)->bundle().id;
    struct stat staged {
    }, parent{};
    ASSERT_EQ(stat((state / "staged" / id).c_str(), &staged), 0);
    ASSERT_EQ(stat((state / "staged").c_str(), &parent), 0);
    EXPECT_EQ(staged.st_dev, parent.st_dev) << "not a mount point";

    fs::remove(iso);  // the medium goes back to the safe
    CommandResult update = host_repos_update(root);
    ASSERT_EQ(update.exit_code, 0) << update.out << update.err;
    expect_like_connected_upgrade(root, "host-4.3.7");
}

// kill -9 while the package manager finishes its transaction: the new bash is in, the old one
// not yet erased (as yum leaves it when killed in its cleanup phase). The re-run finds the
// duplicate, erases the older copy as package-cleanup --cleandupes does, and ends as an
// uninterrupted run would, where a plain re-run saw "Nothing to do" and reported success. The
// package manager dies with the applier, as in a power loss: one still at work would make the
// re-run wait for it.
TEST(EngineE2E, AKillInTheTransactionLeavesNoDuplicatePackages) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path mark = t.path() / "killed", pm = t.path() / "pm.sh";
    fs::path old_bash = world_dir() / "repos/centos-base/Packages/bash-4.2.46-33.el7.x86_64.rpm";
    ASSERT_TRUE(fs::exists(old_bash));
    auto argv = engine_argv_with_script(
        root, state, pm,
        "#!/bin/sh\n'" + (world_dir() / "bin/dnf").string() +
            "' \"$@\" || exit $?\ncase \"$*\" in *' update') ;; *) exit 0;; esac\n[ -e '" + mark.string() +
            "' ] && exit 0\ntouch '" + mark.string() + "'\nrpm --root '" + root.string() +
            "' --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts --notriggers --replacefiles "
            "--oldpackage '" +
            old_bash.string() + "' 2>/dev/null\nkill -9 $PPID $$\n");

    CommandResult killed = run_command(argv);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.out << killed.err;
    auto nevras = installed_nevras(root);
    ASSERT_EQ(
        std::count_if(nevras.begin(), nevras.end(), [](const std::string& n) { return n.rfind("bash-", 0) == 0; }), 2);
    CommandResult resumed = run_command(argv);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("ovirt-applier: an interrupted transaction left packages installed twice; removing "
                               "the older bash-4.2.46-33.el7.x86_64\n"),
              std::string::npos)
        << resumed.out;
    expect_like_connected_upgrade(root, "engine-4.3.7");
}

// A bundle that expires between a failed run and its re-run: the started run finishes with the
// bundle it started with; a new run with it is refused.
TEST(EngineE2E, AStartedRunFinishesWithTheBundleItStartedWithAfterItExpires) {
    const auto valid_for = std::chrono::seconds(40);
    auto started = std::chrono::system_clock::now();
    std::unique_ptr<WorldBundle> soon = make_world_bundle({}, valid_for);
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.exit", "1\n");
    auto argv = applier_argv("engine", soon->bundle, soon->cert, root, state);
    ASSERT_EQ(run_command(argv).exit_code, 4);
    std::this_thread::sleep_until(started + valid_for + std::chrono::seconds(2));

    fs::remove(root / "var/lib/ovirt-airgap-test/engine-setup.exit");
    CommandResult resumed = run_command(argv);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    expect_like_connected_upgrade(root, "engine-4.3.7", true);

    fs::path other = copy_world_root("engine-4.3.7", t.path() / "other");
    CommandResult fresh = run_command(applier_argv("engine", soon->bundle, soon->cert, other, t.path() / "state2"));
    EXPECT_EQ(fresh.exit_code, 2);
    EXPECT_EQ(fresh.err.rfind("ovirt-applier: error: bundle expired on ", 0), 0u) << fresh.err;
}

// kill -9 while the upstream repos are disabled, then a damaged journal: the applier refuses
// it (never starts over silently); moved aside as the error advises, the next run puts the
// original repo files back from their copies beside it and ends as an uninterrupted run would.
TEST(EngineE2E, ADamagedJournalMovedAsideDoesNotLoseTheOriginalRepoFiles) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path mark = t.path() / "killed", pm = t.path() / "pm.sh";
    auto argv = engine_argv_with_script(
        root, state, pm,
        "#!/bin/sh\ncase \"$*\" in *'ovirt*setup*'*) [ -e '" + mark.string() + "' ] || { touch '" + mark.string() +
            "'; kill -9 $PPID; sleep 60; };; esac\nexec '" + (world_dir() / "bin/dnf").string() + "' \"$@\"\n");
    ASSERT_EQ(run_command(argv).exit_code, 128 + SIGKILL);
    EXPECT_TRUE(fs::exists(state / "original-repos/changes.json"));
    EXPECT_NE(read_file(root / "etc/yum.repos.d/ovirt-4.3.repo").find("enabled=0"), std::string::npos);

    write_file(state / "journal.json", "{\"state_version\": 1, \"steps\": [");
    CommandResult damaged = run_command(argv);
    EXPECT_EQ(damaged.exit_code, 1) << damaged.out << damaged.err;
    EXPECT_NE(damaged.err.find("is damaged"), std::string::npos) << damaged.err;
    fs::rename(state / "journal.json", t.path() / "journal.json.damaged");

    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("ovirt-applier: an earlier run without a journal left repo files disabled; putting back "
                         "the originals kept in " +
                         (state / "original-repos").string() + "\n"),
              std::string::npos)
        << r.out;
    EXPECT_FALSE(fs::exists(state / "original-repos"));
    expect_like_connected_upgrade(root, "engine-4.3.7", true);
}

// A bundle refused at preflight (here: `engine` on a host) leaves no unfinished run behind:
// the next, good run on the same state dir is not blocked, and nothing is left staged.
TEST(EngineE2E, ARefusalAtPreflightDoesNotBlockTheNextRun) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    CommandResult refused = run_command(engine_argv(root, state));
    ASSERT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_EQ(refused.err,
              "ovirt-applier: error: this machine is not an engine: none of the bundle's engine packages "
              "is installed\n");
    EXPECT_FALSE(Journal::load(state));
    EXPECT_FALSE(fs::exists(state / "staged")) << "refused before anything is extracted";

    auto argv = applier_argv("host", world_bundle().bundle, world_bundle().cert, root, state);
    argv.push_back("--update");
    CommandResult host = run_command(argv);
    ASSERT_EQ(host.exit_code, 0) << host.out << host.err;
    expect_like_connected_upgrade(root, "host-4.3.7");
}

// A package manager that does not exist is found at preflight, before any repo file changes.
TEST(EngineE2E, ABadPackageManagerIsRefusedBeforeAnyChange) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto etc = tree(root / "etc");
    auto argv = engine_argv(root, state);
    argv.back() = (t.path() / "no/dnf").string();  // --package-manager
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.err, "ovirt-applier: error: --package-manager: '" + (t.path() / "no/dnf").string() +
                         "' is neither an executable file nor a command on PATH\n");
    EXPECT_EQ(tree(root / "etc"), etc);
    EXPECT_FALSE(fs::exists(root / "var/log/ovirt-airgap-test/calls.log"));
}

// Anti-rollback survives a careless `rm -rf` of the state dir: the last serial is also kept in
// the system's /etc/ovirt-airgap. Another bundle with that serial is refused (the same bundle
// again would be "already applied").
TEST(EngineE2E, RemovingTheStateDirDoesNotAllowARollback) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto argv = applier_argv("host", world_bundle().bundle, world_bundle().cert, root, state);
    argv.push_back("--update");
    ASSERT_EQ(run_command(argv).exit_code, 0);
    fs::remove_all(state);
    std::unique_ptr<WorldBundle> other = make_world_bundle();  // a new id, serial 1000 too
    argv = applier_argv("host", other->bundle, other->cert, root, state);
    argv.push_back("--update");
    CommandResult again = run_command(argv);
    EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
    EXPECT_EQ(again.err,
              "ovirt-applier: error: bundle serial 1000 is not newer than the last applied serial 1000 "
              "(rollback refused)\n");
}

// Two runs on one system with different state dirs: the second is refused while the first runs.
TEST(EngineE2E, TwoRunsOnOneSystemAreLockedAgainstEachOther) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path pm = holding_package_manager(t.path());
    write_file(t.path() / "HOLD", "");
    auto argv = engine_argv(root, t.path() / "state");
    argv.back() = pm.string();  // --package-manager
    StartedCommand run = start(argv, t.path());
    ASSERT_TRUE(wait_until([&] { return fs::exists(t.path() / "STARTED"); })) << "update-setup never started";
    CommandResult second = run_command(engine_argv(root, t.path() / "other-state"));
    EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
    EXPECT_EQ(second.err, "ovirt-applier: error: another ovirt-applier is running (lock " +
                              (root / "run/ovirt-airgap.lock").string() + " held by pid " + std::to_string(run.pid) +
                              ")\n");
    kill(-run.pid, SIGINT);
    EXPECT_EQ(run.wait().exit_code, 130);
}

// The journal cannot be written any more in the middle of a run (here: something is in its
// place): the step fails, and the upstream repo files are still put back. The stand-in package
// manager waits until the applier has journaled it as the step's child (as it starts), so that
// it blocks the journal after that write, in the middle of the step.
TEST(EngineE2E, AnUnwritableJournalMidRunStillRestoresTheRepoFiles) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto repos_before = tree(root / "etc/yum.repos.d");
    fs::path pm = t.path() / "pm.sh";
    const std::string journal = (state / "journal.json").string();
    auto argv =
        engine_argv_with_script(root, state, pm,
                                "#!/bin/sh\nn=0\nuntil grep -q \"\\\"pid\\\": $$,\" '" + journal +
                                    "' || [ $n -ge 600 ]; do n=$((n+1)); sleep 0.05; done\nrm -f '" + journal +
                                    "'\nmkdir -p '" + (state / "journal.json/blocked").string() + "'\nexit 1\n");
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.out.find("ovirt-applier: could not journal the failure: "), std::string::npos) << r.out;
    auto repos_now = tree(root / "etc/yum.repos.d");
    for (auto it = repos_now.begin(); it != repos_now.end();)
        it = it->first.rfind("ovirt-airgap-", 0) == 0 ? repos_now.erase(it) : std::next(it);
    EXPECT_EQ(repos_now, repos_before);
}

// The journal's word on where the staged copy is is not believed: a resumed run uses (and at
// the end removes) only its own staging directory, never one the journal points elsewhere.
TEST(EngineE2E, AJournalNamingAnotherStagingDirIsNotBelieved) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.exit", "1\n");
    ASSERT_EQ(run_command(engine_argv(root, state)).exit_code, 4);
    // Somewhere else with a tampered bundle in it, and the journal pointing there.
    fs::path elsewhere = copy_of_world_bundle(t.path() / "elsewhere");  // .../elsewhere/bundle
    tamper(elsewhere);
    nlohmann::json j = nlohmann::json::parse(read_file(state / "journal.json"));
    for (auto& step : j["steps"])
        if (step["name"] == "stage") step["data"]["dir"] = elsewhere.string();
    write_file(state / "journal.json", j.dump(2));

    fs::remove(root / "var/lib/ovirt-airgap-test/engine-setup.exit");
    CommandResult r = run_command(engine_argv(root, state));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("ovirt-applier: the journal names " + elsewhere.string() + " as the staged copy; ignored"),
              std::string::npos)
        << r.out;
    EXPECT_TRUE(fs::exists(elsewhere / "bundle.json")) << "an outside directory was removed at unstage";
    expect_connected_and_no_attack(root, "engine-4.3.7");
}

// An ISO swapped between a failed run and its re-run (same signed bundle.json, other packages):
// the re-run uses the staged copy, hashed again, never the new medium's content.
TEST(EngineE2E, AnIsoSwappedOnResumeIsNotWhatIsInstalled) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path iso = t.path() / "bundle.iso";
    write_iso(world_bundle().bundle, iso, "OVIRT_AIRGAP");
    write_file(root / "var/lib/ovirt-airgap-test/engine-setup.exit", "1\n");
    ASSERT_EQ(run_command(engine_argv(root, state, {}, iso)).exit_code, 4);

    fs::path swapped = copy_of_world_bundle(t.path() / "swapped");
    tamper(swapped);
    fs::remove(iso);
    write_iso(swapped, iso, "OVIRT_AIRGAP");
    fs::remove(root / "var/lib/ovirt-airgap-test/engine-setup.exit");
    CommandResult r = run_command(engine_argv(root, state, {}, iso));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    expect_connected_and_no_attack(root, "engine-4.3.7");
}

// `host` staging has no preflight: a bundle made for engines only is refused before it is
// staged or offered to the host's package manager.
TEST(EngineE2E, AHostRefusesABundleNotMadeForHostsBeforeStaging) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path bundle = copy_of_world_bundle(t.path());
    const std::string id = rewrite_as_engine_only(bundle, world_bundle());
    auto etc = tree(root / "etc");

    CommandResult r = run_command(applier_argv("host", bundle, world_bundle().cert, root, state));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(r.err, "ovirt-applier: error: bundle " + id + " is not for role host (roles: engine)\n");
    EXPECT_EQ(tree(root / "etc"), etc);
    EXPECT_FALSE(fs::exists(state / "staged" / id));
}
