// Safe, idempotent runs, end to end on copies of the world's engine and host roots: the same
// bundle again is "already applied" (exit 0); the wrong command for the machine, and `engine
// --publish` of a bundle with nothing for hosts, are refused before anything is extracted;
// `abandon` drops a killed run and gives the repo files back byte for byte; the history of runs
// in `status` and `status --json`; the reboot notice until the new kernel runs; every step told
// to the step sink (syslog in ovirt-applier) and to steps.log.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/step_log.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/journal.hpp"
#include "tests/shared/testkit.hpp"
#include "tests/shared/world_bundle.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;
using namespace airgap::repo;
using nlohmann::json;

namespace {

const WorldBundle& world_bundle() {
    static std::unique_ptr<WorldBundle> made = make_world_bundle();
    return *made;
}

std::vector<std::string> applier(const std::string& command, const fs::path& root, const fs::path& state,
                                 const std::vector<std::string>& extra = {}) {
    auto argv = applier_argv(command, world_bundle().bundle, world_bundle().cert, root, state);
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

CommandResult status(const fs::path& root, const fs::path& state, bool as_json = false) {
    std::vector<std::string> args = {"status", "--root", root.string(), "--state-dir", state.string()};
    if (as_json) args.push_back("--json");
    return run_binary("ovirt-applier", args);
}

// `status --json`, checked by python's own JSON parser too, then parsed.
json status_json(const fs::path& root, const fs::path& state) {
    CommandResult r = status(root, state, true);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    CommandResult tool = run_command({"python3", "-m", "json.tool"}, r.out);
    EXPECT_EQ(tool.exit_code, 0) << tool.err << r.out;
    return json::parse(r.out);
}

// path -> content of every file under dir.
std::map<std::string, std::string> tree(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = read_file(e.path());
    return files;
}

std::string bundle_id() { return json::parse(read_file(world_bundle().bundle / "bundle.json"))["id"]; }

// The world bundle as an engine-only bundle (roles: engine, a new id), signed by the same key:
// nothing in it for hosts.
const fs::path& engine_only_bundle() {
    static TempDir dir;
    static const fs::path made = [] {
        fs::path b = dir.path() / "engine-only";
        fs::copy(world_bundle().bundle, b, fs::copy_options::recursive);
        rewrite_as_engine_only(b, world_bundle());
        return b;
    }();
    return made;
}

const std::string kNewKernel = "3.10.0-1160.el7.x86_64";
const std::string kOldKernel = "3.10.0-1062.el7.x86_64";

}  // namespace

// Staged, then updated from the same bundle: two runs in the history; the same bundle again is
// nothing to do; the reboot notice stays in `status` until the root "runs" the new kernel.
TEST(RunsE2E, HistoryAlreadyAppliedAndTheRebootNotice) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    write_file(root / "proc/sys/kernel/osrelease", kOldKernel + "\n");  // what `uname -r` says there

    CommandResult staged = run_command(applier("host", root, state));
    ASSERT_EQ(staged.exit_code, 0) << staged.out << staged.err;
    CommandResult updated = run_command(applier("host", root, state, {"--update"}));
    ASSERT_EQ(updated.exit_code, 0) << updated.out << updated.err;
    EXPECT_NE(updated.out.find("ovirt-applier: reboot needed: kernel " + kNewKernel + " installed, running " +
                               kOldKernel + "\n"),
              std::string::npos)
        << updated.out;

    // The same bundle again, staging, updating or its dry run: nothing to do, exit 0, nothing touched.
    auto etc = tree(root / "etc");
    auto history_before = read_file(state / "history.json");
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{"--update"}, {}, std::vector<std::string>{"--update", "--dry-run"}}) {
        CommandResult again = run_command(applier("host", root, state, extra));
        EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
        EXPECT_TRUE(std::regex_search(
            again.out,
            std::regex("ovirt-applier: bundle " + bundle_id() +
                       R"( \(serial 1000\) was applied by `ovirt-applier host` on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: )"
                       R"(already applied, nothing to do\n)")))
            << again.out;
        EXPECT_EQ(again.out.find("step "), std::string::npos) << again.out;
        EXPECT_EQ(again.err, "");
    }
    EXPECT_EQ(tree(root / "etc"), etc);
    EXPECT_EQ(read_file(state / "history.json"), history_before) << "nothing to do is no run";

    // The history, newest first, and the reboot still pending.
    CommandResult text = status(root, state);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("reboot pending: kernel " + kNewKernel + " installed by `ovirt-applier host` of bundle " +
                            bundle_id()),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find(", running " + kOldKernel + ": reboot into it to finish the update\n"), std::string::npos)
        << text.out;
    EXPECT_TRUE(std::regex_search(text.out, std::regex("history \\(newest first\\):\n.*\n  2 +host +" + bundle_id() +
                                                       " +1000 .* done, reboot needed for kernel " + kNewKernel +
                                                       "\n  1 +host +" + bundle_id() + " +1000 .* done\n")))
        << text.out;

    json j = status_json(root, state);
    EXPECT_EQ(j["status_version"], 1);
    ASSERT_EQ(j["history"].size(), 2u) << j.dump(2);
    for (std::size_t i = 0; i < 2; ++i) {
        const json& run = j["history"][i];
        EXPECT_EQ(run["id"], i + 1);
        EXPECT_EQ(run["command"], "host");
        EXPECT_EQ(run["bundle"]["id"], bundle_id());
        EXPECT_EQ(run["bundle"]["serial"], 1000);
        EXPECT_EQ(run["result"], "done");
        EXPECT_TRUE(run["started"].is_string() && run["ended"].is_string()) << run.dump();
        EXPECT_LE(run["started"].get<std::string>(), run["ended"].get<std::string>());
    }
    EXPECT_TRUE(j["history"][0]["reboot"].is_null());
    EXPECT_EQ(j["history"][1]["reboot"]["installed"], kNewKernel);
    EXPECT_EQ(j["last_applied"]["bundle_id"], bundle_id());
    EXPECT_EQ(j["last_applied"]["command"], "host");
    EXPECT_EQ(j["run"]["complete"], true);
    EXPECT_EQ(j["run"]["steps"].back()["status"], "done");
    EXPECT_EQ(j["reboot_pending"]["kernel_installed"], kNewKernel);
    EXPECT_EQ(j["reboot_pending"]["kernel_running"], kOldKernel);

    // "Rebooted" into the new kernel: the notice is gone, the history stays.
    write_file(root / "proc/sys/kernel/osrelease", kNewKernel + "\n");
    text = status(root, state);
    EXPECT_EQ(text.out.find("reboot pending"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("history (newest first):"), std::string::npos) << text.out;
    EXPECT_TRUE(status_json(root, state)["reboot_pending"].is_null());
}

// The wrong command for the machine (`host` on the engine) is refused once the bundle is
// verified, before it is extracted: no state dir, no journal, nothing staged; then the right
// one works.
TEST(RunsE2E, TheWrongRoleIsRefusedBeforeAnythingIsExtracted) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto etc = tree(root / "etc");
    CommandResult refused = run_command(applier("host", root, state));
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_EQ(refused.err,
              "ovirt-applier: error: this machine is not a host: none of the bundle's host packages is installed\n");
    EXPECT_EQ(refused.out.find("step "), std::string::npos) << refused.out;
    EXPECT_FALSE(fs::exists(state)) << "nothing written, not even the state dir";
    EXPECT_EQ(tree(root / "etc"), etc);

    CommandResult engine = run_command(applier("engine", root, state));
    ASSERT_EQ(engine.exit_code, 0) << engine.out << engine.err;
    EXPECT_FALSE(fs::exists(state / "staged" / bundle_id()));
}

// `engine --publish` of a bundle with nothing for the hosts is refused as soon as its signature
// is checked, in a dry run too: exit 2, one line, nothing journaled, staged or changed (not even
// the state dir). Without --publish the same bundle then updates the engine.
TEST(RunsE2E, EnginePublishOfABundleWithNothingForHostsIsRefusedBeforeAnythingChanges) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    const fs::path& bundle = engine_only_bundle();
    const std::string id = json::parse(read_file(bundle / "bundle.json"))["id"];
    ASSERT_NE(id, bundle_id());
    auto etc = tree(root / "etc");
    auto repos = tree(root / "etc/yum.repos.d");
    for (const std::vector<std::string>& extra : {std::vector<std::string>{"--publish"}, {"--publish", "--dry-run"}}) {
        auto argv = applier_argv("engine", bundle, world_bundle().cert, root, state);
        argv.insert(argv.end(), extra.begin(), extra.end());
        CommandResult refused = run_command(argv);
        EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
        EXPECT_EQ(refused.err, "ovirt-applier: error: bundle " + id +
                                   " has nothing for hosts (roles: engine only): nothing to publish; refused before "
                                   "anything changed: run `ovirt-applier engine` without --publish\n")
            << extra.back();
        EXPECT_EQ(refused.out.find("step "), std::string::npos) << refused.out;
        EXPECT_FALSE(fs::exists(state / "journal.json"));
        EXPECT_FALSE(fs::exists(state / "staged"));
        EXPECT_FALSE(fs::exists(state)) << "nothing written, not even the state dir";
        EXPECT_EQ(tree(root / "etc/yum.repos.d"), repos);
        EXPECT_EQ(tree(root / "etc"), etc);
        EXPECT_FALSE(fs::exists(root / "var/www/html/ovirt-airgap"));
    }

    CommandResult engine = run_command(applier_argv("engine", bundle, world_bundle().cert, root, state));
    ASSERT_EQ(engine.exit_code, 0) << engine.out << engine.err;
    json j = status_json(root, state);
    EXPECT_EQ(j["last_applied"]["bundle_id"], id);
    EXPECT_EQ(j["last_applied"]["command"], "engine");
    EXPECT_TRUE(j["published"].is_null()) << j.dump(2);
}

// A run killed in the middle (here: at update-setup, with the upstream repos disabled) is
// dropped by `abandon`: the repo files back byte for byte, its own repo file and staged copy
// gone, the run in the history as abandoned, and nothing left that blocks the next command.
TEST(RunsE2E, AbandonGivesTheRepoFilesBackAndRemovesTheStagedCopy) {
    TempDir t;
    fs::path root = copy_world_root("engine-4.3.7", t.path());
    fs::path state = t.path() / "state";
    auto repos_before = tree(root / "etc/yum.repos.d");
    // The power cut: the package manager kills the applier that started it, then ends.
    fs::path pm = t.path() / "pm.sh";
    write_file(pm, "#!/bin/sh\ncase \"$*\" in *'ovirt*setup*'*) kill -9 $PPID; exit 1;; esac\nexec '" +
                       (world_dir() / "bin/dnf").string() + "' \"$@\"\n");
    fs::permissions(pm, fs::perms::owner_all);
    auto argv = applier("engine", root, state);
    argv.back() = pm.string();  // --package-manager
    CommandResult killed = run_command(argv);
    ASSERT_NE(killed.exit_code, 0) << killed.out << killed.err;
    auto journal = Journal::load(state);
    ASSERT_TRUE(journal);
    ASSERT_EQ(journal->step("update-setup").status, StepStatus::running);
    ASSERT_NE(tree(root / "etc/yum.repos.d"), repos_before) << "the repos were not disabled";
    ASSERT_TRUE(fs::exists(state / "staged" / bundle_id()));

    {
        // While an applier holds the lock, abandon is refused and says who holds it.
        FileLock held(Journal::lock_file(state));
        CommandResult busy =
            run_binary("ovirt-applier", {"abandon", "--root", root.string(), "--state-dir", state.string()});
        EXPECT_EQ(busy.exit_code, 1);
        EXPECT_EQ(busy.err, "ovirt-applier: error: another ovirt-applier is running (lock " +
                                Journal::lock_file(state).string() + " held by pid " + std::to_string(getpid()) +
                                ")\n");
    }

    CommandResult abandoned =
        run_binary("ovirt-applier", {"abandon", "--root", root.string(), "--state-dir", state.string()});
    ASSERT_EQ(abandoned.exit_code, 0) << abandoned.out << abandoned.err;
    EXPECT_NE(abandoned.out.find("ovirt-applier: abandoned `ovirt-applier engine` of bundle " + bundle_id() +
                                 " (serial 1000), stopped at step update-setup; the packages it installed stay "
                                 "installed\n"),
              std::string::npos)
        << abandoned.out;
    EXPECT_EQ(tree(root / "etc/yum.repos.d"), repos_before);
    EXPECT_FALSE(fs::exists(state / "staged" / bundle_id()));
    EXPECT_FALSE(fs::exists(state / "original-repos"));
    EXPECT_FALSE(Journal::load(state));
    json j = status_json(root, state);
    EXPECT_TRUE(j["run"].is_null());
    ASSERT_EQ(j["history"].size(), 1u);
    EXPECT_EQ(j["history"][0]["result"], "abandoned");
    EXPECT_EQ(j["history"][0]["step"], "update-setup");

    CommandResult nothing =
        run_binary("ovirt-applier", {"abandon", "--root", root.string(), "--state-dir", state.string()});
    EXPECT_EQ(nothing.exit_code, 0) << nothing.err;
    EXPECT_EQ(nothing.out, "ovirt-applier: no unfinished run in " + state.string() + ": nothing to abandon\n");

    // Nothing blocks the next run: it starts afresh and finishes.
    CommandResult next = run_command(applier("engine", root, state));
    ASSERT_EQ(next.exit_code, 0) << next.out << next.err;
    EXPECT_EQ(next.out.find("resuming"), std::string::npos) << next.out;
    EXPECT_EQ(status_json(root, state)["history"].size(), 2u);
}

// A package transaction cut short (here: killed with a package installed twice) is what the
// re-run completes: abandoning it would leave the rpm database half updated, so it is refused
// in one line, and the run, its staged copy and its journal stay for the re-run. The package
// manager dies with the applier (a power loss): one still at work is refused for that instead.
TEST(RunsE2E, AbandonRefusesAPackageTransactionCutShort) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    fs::path old_bash = world_dir() / "repos/centos-base/Packages/bash-4.2.46-33.el7.x86_64.rpm";
    ASSERT_TRUE(fs::exists(old_bash));
    fs::path pm = t.path() / "pm.sh";
    write_file(pm, "#!/bin/sh\n'" + (world_dir() / "bin/dnf").string() +
                       "' \"$@\" || exit $?\ncase \"$*\" in *' update') ;; *) exit 0;; esac\nrpm --root '" +
                       root.string() +
                       "' --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts --notriggers --replacefiles "
                       "--oldpackage '" +
                       old_bash.string() + "' 2>/dev/null\nkill -9 $PPID $$\n");
    fs::permissions(pm, fs::perms::owner_all);
    auto argv = applier("host", root, state, {"--update"});
    argv[argv.size() - 2] = pm.string();  // --package-manager, before --update
    CommandResult killed = run_command(argv);
    ASSERT_EQ(killed.exit_code, 128 + 9) << killed.out << killed.err;

    CommandResult r = run_binary("ovirt-applier", {"abandon", "--root", root.string(), "--state-dir", state.string()});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: cannot abandon: step update was cut short in the middle of a package transaction "
              "(packages installed twice: bash-4.2.46-33.el7.x86_64): abandoning would leave the rpm database half "
              "updated; run `ovirt-applier host` with the same bundle again to finish it\n");
    EXPECT_TRUE(Journal::load(state));
    EXPECT_TRUE(fs::exists(state / "staged" / bundle_id()));
}

namespace {

struct RecordingSink : StepSink {
    void step(const StepEvent& e) noexcept override { events.push_back(e); }
    std::vector<StepEvent> events;
};

struct QuietReporter : Reporter {};

}  // namespace

// Every step's start and end reaches the sink (ovirt-applier's is syslog) and steps.log, with
// the time and the bundle id.
TEST(RunsE2E, EveryStepGoesToTheSinkAndToTheStepLog) {
    TempDir t;
    ApplyOptions o;
    o.bundle = world_bundle().bundle;
    o.trust = world_bundle().cert;
    o.root = copy_world_root("host-4.3.7", t.path());
    o.state_dir = t.path() / "state";
    o.package_manager = (world_dir() / "bin/dnf").string();
    RecordingSink sink;
    o.step_sink = &sink;
    QuietReporter quiet;
    run_host(o, quiet);

    std::vector<std::string> seen;
    for (const auto& e : sink.events) {
        seen.push_back(e.step + " " + e.status);
        EXPECT_EQ(e.bundle_id, bundle_id());
        EXPECT_EQ(e.serial, 1000u);
        EXPECT_EQ(e.command, "host");
        EXPECT_TRUE(std::regex_match(e.time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << e.time;
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"verify running", "verify done", "stage running", "stage done",
                                              "repos running", "repos done"}));
    auto log = lines_of(read_file(o.state_dir / "logs/steps.log"));
    ASSERT_EQ(log.size(), 6u);
    for (std::size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i], format_step_event(sink.events[i]));
    EXPECT_TRUE(std::regex_match(log[2], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ bundle )" + bundle_id() +
                                                    R"( \(serial 1000\) host: step stage: running)")))
        << log[2];
}

// `verify --json`: what was verified, for scripts; the signer's fingerprint as openssl prints it.
TEST(RunsE2E, VerifyJsonSaysWhatWasVerified) {
    CommandResult r = run_binary(
        "ovirt-applier", {"verify", world_bundle().bundle.string(), "--trust", world_bundle().cert.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(run_command({"python3", "-m", "json.tool"}, r.out).exit_code, 0) << r.out;
    json j = json::parse(r.out);
    EXPECT_EQ(j["verify_version"], 1);
    EXPECT_EQ(j["verified"], true);
    EXPECT_EQ(j["bundle"]["id"], bundle_id());
    EXPECT_EQ(j["bundle"]["serial"], 1000);
    EXPECT_EQ(j["bundle"]["roles"], json({"engine", "host"}));
    EXPECT_EQ(j["bundle"]["manifest_sha256"], sha256sum(world_bundle().bundle / "bundle.json"));
    EXPECT_EQ(j["signer"]["fingerprint_sha256"], openssl_fingerprint(world_bundle().cert));
    EXPECT_TRUE(j["base"].is_null());

    // A refusal is still one line on stderr, and nothing on stdout.
    TempDir t;
    KeyPairFiles other = write_key_pair(t.path(), generate_key(KeyType::ecdsa_p256, "another signer", 30));
    CommandResult refused = run_binary(
        "ovirt-applier", {"verify", world_bundle().bundle.string(), "--trust", other.cert.string(), "--json"});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_EQ(refused.out, "");
    EXPECT_EQ(line_count(refused.err), 1u) << refused.err;
}
