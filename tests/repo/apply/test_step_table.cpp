// The sequences' step tables: step names and their journal spelling, the typed data each step
// journals (and reads back from journals written before), and the loop that runs a table
// through a real Journal in a temporary state dir: resume, failure, refusal, stop, signal.
#include "repo/apply/step_table_private.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/step_data_private.hpp"
#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/state/journal.hpp"
#include "tests/shared/testkit.hpp"

namespace airgap::repo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

const JournalBundle kBundle{"0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10", 42, "/media/ovirt-4.3.10.iso"};

// --- names ---------------------------------------------------------------------------------

TEST(StepTable, EveryStepNameRoundTripsThroughItsJournalSpelling) {
    for (int i = 0; i <= static_cast<int>(StepName::activate); ++i) {
        const auto step = static_cast<StepName>(i);
        EXPECT_NE(to_string(step), "?");
        EXPECT_EQ(step_name_from_string(to_string(step)), step) << to_string(step);
    }
    // Words joined by '-', as the journal has always spelt them.
    EXPECT_EQ(to_string(StepName::engine_upgrade_check), "engine-upgrade-check");
    EXPECT_EQ(to_string(StepName::kernel_check), "kernel-check");
    EXPECT_EQ(step_name_from_string("restore-repos"), StepName::restore_repos);
    EXPECT_EQ(step_name_from_string("yum-update"), std::nullopt);
    EXPECT_EQ(step_name_from_string("Verify"), std::nullopt);
}

// The lists docs/journal.md gives; a journal written before the tables resumes only if they match.
TEST(StepTable, TheSequencesHaveTheDocumentedStepsInOrder) {
    using V = std::vector<std::string>;
    EXPECT_EQ(engine_steps(), (V{"verify", "stage", "preflight", "repos", "engine-upgrade-check", "update-setup",
                                 "engine-setup", "restore-repos", "update", "kernel-check", "unstage"}));
    EXPECT_EQ(host_steps(false), (V{"verify", "stage", "repos"}));
    EXPECT_EQ(host_steps(false, true), (V{"verify", "stage", "repos"}));
    EXPECT_EQ(host_steps(true), (V{"verify", "stage", "preflight", "repos", "update", "kernel-check", "unstage"}));
    EXPECT_EQ(host_steps(true, true), (V{"verify", "stage", "preflight", "repos", "maintenance", "update",
                                         "kernel-check", "unstage", "activate"}));
    // An oVirt Node: the new layer in place of the kernel check, and the reboot into it checked.
    EXPECT_EQ(host_steps(false, true, true), (V{"verify", "stage", "repos"}));
    EXPECT_EQ(host_steps(true, false, true),
              (V{"verify", "stage", "preflight", "repos", "update", "new-layer", "unstage", "running-layer"}));
    EXPECT_EQ(host_steps(true, true, true), (V{"verify", "stage", "preflight", "repos", "maintenance", "update",
                                               "new-layer", "unstage", "running-layer", "activate"}));
}

// --- typed data ----------------------------------------------------------------------------

template <class T>
T round_trip(const T& value) {
    return json::parse(json(value).dump()).get<T>();
}

TEST(StepData, EachStepsDataRoundTripsThroughTheJournalsJson) {
    EXPECT_EQ(round_trip(VerifyData{"ab12"}).manifest_sha256, "ab12");
    EXPECT_EQ(round_trip(StageData{"/var/lib/ovirt-airgap/staged/x"}).dir, "/var/lib/ovirt-airgap/staged/x");

    PreflightData p = round_trip(PreflightData{"3.10.0-1160.el7.x86_64", 12, "host1", {}});
    EXPECT_EQ(p.kernel, "3.10.0-1160.el7.x86_64");
    EXPECT_EQ(p.packages, 12u);
    EXPECT_EQ(p.host, "host1");

    RepoFileChange change{"/etc/yum.repos.d/ovirt-4.3.repo", "[ovirt]\nenabled=1\n", "[ovirt]\nenabled=0\n"};
    ReposData r = round_trip(ReposData{true, {change}});
    EXPECT_TRUE(r.active);
    ASSERT_EQ(r.changes.size(), 1u);
    EXPECT_EQ(r.changes[0], change);

    UpgradeCheckData u = round_trip(UpgradeCheckData{1, true, {"ovirt-engine 4.3.7 (target 4.3.10)"}});
    EXPECT_EQ(u.exit, 1);
    EXPECT_TRUE(u.upgrade);
    EXPECT_EQ(u.below, std::vector<std::string>{"ovirt-engine 4.3.7 (target 4.3.10)"});

    EXPECT_EQ(round_trip(SkippedData{"engine-upgrade-check found no upgrade"}).skipped,
              "engine-upgrade-check found no upgrade");

    KernelCheckData k = round_trip(KernelCheckData{"3.10.0-1160.el7.x86_64", "3.10.0-1127.el7.x86_64", true, "b00t"});
    EXPECT_EQ(k.installed, "3.10.0-1160.el7.x86_64");
    EXPECT_EQ(k.running, "3.10.0-1127.el7.x86_64");
    EXPECT_TRUE(k.reboot_needed);
    EXPECT_EQ(k.boot_id, "b00t");

    PreflightData n = round_trip(PreflightData{"", 1, "", NodeBefore{"a+1", {"a+1", "b+1"}, false}});
    ASSERT_TRUE(n.node.has_value());
    EXPECT_EQ(n.node->layer, "a+1");
    EXPECT_EQ(n.node->layers, (std::vector<std::string>{"a+1", "b+1"}));
    EXPECT_FALSE(n.node->image_update);
    NewLayerData l = round_trip(NewLayerData{"b+1", "b00t", ""});
    EXPECT_EQ(l.layer, "b+1");
    EXPECT_EQ(l.boot_id, "b00t");
    EXPECT_EQ(l.skipped, "");
}

// The keys are the journal format on disk: what the sequences wrote before the types existed.
TEST(StepData, TheJsonIsTheJournalFormatOnDisk) {
    EXPECT_EQ(json(VerifyData{"ab12"}), json::parse(R"({"manifest_sha256": "ab12"})"));
    EXPECT_EQ(json(StageData{"/s"}), json::parse(R"({"dir": "/s"})"));
    EXPECT_EQ(json(PreflightData{"k", 3, "", {}}), json::parse(R"({"kernel": "k", "packages": 3})"));
    EXPECT_EQ(json(PreflightData{"k", 3, "h", {}}), json::parse(R"({"kernel": "k", "packages": 3, "host": "h"})"));
    EXPECT_EQ(json(ReposData{true, {{"/f", "o", "c"}}}),
              json::parse(R"({"active": true, "changes": [{"file": "/f", "original": "o", "changed": "c"}]})"));
    EXPECT_EQ(json(UpgradeCheckData{0, true, {}}), json::parse(R"({"exit": 0, "upgrade": true})"));
    EXPECT_EQ(json(UpgradeCheckData{1, false, {}}), json::parse(R"({"exit": 1, "upgrade": false})"));
    EXPECT_EQ(json(UpgradeCheckData{1, true, {"b"}}), json::parse(R"({"exit": 1, "upgrade": true, "below": ["b"]})"));
    EXPECT_EQ(json(SkippedData{"why"}), json::parse(R"({"skipped": "why"})"));
    EXPECT_EQ(json(KernelCheckData{"i", "r", false, "b"}),
              json::parse(R"({"installed": "i", "running": "r", "reboot_needed": false, "boot_id": "b"})"));
    // On an oVirt Node, the preflight's layers beside its other keys; new-layer's either branch.
    EXPECT_EQ(json(PreflightData{"", 1, "", NodeBefore{"a+1", {"a+1"}, true}}),
              json::parse(R"({"kernel": "", "packages": 1, "layer": "a+1", "layers": ["a+1"], "image_update": true})"));
    EXPECT_EQ(json(NewLayerData{"b+1", "b", ""}), json::parse(R"({"layer": "b+1", "boot_id": "b"})"));
    EXPECT_EQ(json(NewLayerData{"a+1", "", "no image update"}),
              json::parse(R"({"layer": "a+1", "skipped": "no image update"})"));
}

TEST(StepData, AStepThatWroteNothingReadsAsDefaults) {
    const json empty = json::object();
    EXPECT_EQ(empty.get<VerifyData>().manifest_sha256, "");
    EXPECT_EQ(empty.get<PreflightData>().host, "");
    EXPECT_EQ(empty.get<PreflightData>().packages, 0u);
    EXPECT_FALSE(empty.get<PreflightData>().node.has_value());
    EXPECT_EQ(empty.get<NewLayerData>().skipped, "");
    EXPECT_FALSE(empty.get<ReposData>().active);
    EXPECT_TRUE(empty.get<ReposData>().changes.empty());
    EXPECT_FALSE(empty.get<KernelCheckData>().reboot_needed);
    EXPECT_TRUE(empty.get<UpgradeCheckData>().below.empty());
}

// --- the loop ------------------------------------------------------------------------------

// A sequence made of recording steps: what ran (and whether again), what was reloaded, and
// what the loop asked of the hooks.
struct Recorder : StepHooks {
    std::vector<std::string> ran, reloaded, messages, events;
    int give_backs = 0, abandons = 0;
    void message(const std::string& line) override { messages.push_back(line); }
    void step_event(StepName step, const std::string& status, const std::string& detail) override {
        // What the journal says at that moment: the step log follows the journal, never leads it.
        std::string journaled =
            journal ? std::string(to_string(journal->step(std::string(to_string(step))).status)) : "";
        events.push_back(std::string(to_string(step)) + " " + status + (detail.empty() ? "" : ": " + detail) +
                         " (journal: " + journaled + ")");
    }
    const Journal* journal = nullptr;
    void give_back() override { ++give_backs; }
    void abandon() override { ++abandons; }

    BoundStep step(StepName name, std::function<void()> body = {}, bool changes_nothing = false) {
        BoundStep s;
        s.name = name;
        s.run = [this, name, body](bool again) {
            ran.push_back(std::string(to_string(name)) + (again ? " again" : ""));
            if (body) body();
            return StepEnd::done;
        };
        s.reload = [this, name] { reloaded.emplace_back(to_string(name)); };
        s.changes_nothing = changes_nothing;
        return s;
    }
};

std::vector<std::string> names_of(const std::vector<BoundStep>& steps) {
    std::vector<std::string> out;
    for (const auto& s : steps) out.emplace_back(to_string(s.name));
    return out;
}

StepStatus status_of(const fs::path& state, const std::string& step) { return Journal::load(state)->step(step).status; }

TEST(StepLoop, AFreshRunRunsEveryStepInOrderAndJournalsThemDone) {
    TempDir state;
    Recorder r;
    std::vector<BoundStep> steps{r.step(StepName::verify), r.step(StepName::stage), r.step(StepName::update)};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    EXPECT_TRUE(run_steps(j, steps, r));
    EXPECT_EQ(r.ran, (std::vector<std::string>{"verify", "stage", "update"}));
    EXPECT_TRUE(r.reloaded.empty());
    EXPECT_TRUE(Journal::load(state.path())->complete());
    EXPECT_EQ(r.messages.front(), "step verify: running");
    EXPECT_EQ(r.messages.back(), "step update: done");
}

TEST(StepLoop, AResumedRunReloadsFinishedStepsAndRunsTheFailedOneAgain) {
    TempDir state;
    bool fail = true;
    {
        Recorder r;
        std::vector<BoundStep> steps{r.step(StepName::verify), r.step(StepName::stage),
                                     r.step(StepName::update,
                                            [&] {
                                                if (fail) throw std::runtime_error("yum exited with 1");
                                            }),
                                     r.step(StepName::unstage)};
        Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
        try {
            run_steps(j, steps, r);
            FAIL() << "no exception";
        } catch (const StepFailed& e) {
            EXPECT_STREQ(e.what(), "step update failed; run the same command again to resume");
            EXPECT_EQ(describe(e), "step update failed; run the same command again to resume: yum exited with 1");
        }
        EXPECT_EQ(r.give_backs, 1);  // the repo files go back when a step fails
        EXPECT_EQ(r.abandons, 0);
        EXPECT_EQ(r.messages.back(), "step update: failed: yum exited with 1");
    }
    EXPECT_EQ(status_of(state.path(), "stage"), StepStatus::done);
    EXPECT_EQ(status_of(state.path(), "update"), StepStatus::failed);
    EXPECT_EQ(Journal::load(state.path())->step("update").error, "yum exited with 1");
    EXPECT_EQ(status_of(state.path(), "unstage"), StepStatus::pending);

    fail = false;
    Recorder r;
    std::vector<BoundStep> steps{r.step(StepName::verify), r.step(StepName::stage), r.step(StepName::update),
                                 r.step(StepName::unstage)};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    ASSERT_TRUE(j.resumed());
    EXPECT_TRUE(run_steps(j, steps, r));
    EXPECT_EQ(r.reloaded, (std::vector<std::string>{"verify", "stage"}));
    EXPECT_EQ(r.ran, (std::vector<std::string>{"update again", "unstage"}));
    EXPECT_TRUE(Journal::load(state.path())->complete());
}

TEST(StepLoop, ARefusalWhereNothingChangedKeepsItsOwnErrorAndLeavesNoRunBehind) {
    TempDir state;
    Recorder r;
    std::vector<BoundStep> steps{
        r.step(StepName::verify, {}, true),
        r.step(
            StepName::preflight, [] { throw ConfigError("this machine is not an engine"); }, true),
        r.step(StepName::update)};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    EXPECT_EQ(test::error_of<ConfigError>([&] { run_steps(j, steps, r); }), "this machine is not an engine");
    EXPECT_EQ(r.abandons, 1);
    EXPECT_EQ(r.ran, (std::vector<std::string>{"verify", "preflight"}));
}

TEST(StepLoop, TheSameErrorFromAStepThatChangesThingsIsAStepFailure) {
    TempDir state;
    Recorder r;
    std::vector<BoundStep> steps{r.step(StepName::update, [] { throw ConfigError("cannot run yum"); })};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    EXPECT_EQ(test::error_of<StepFailed>([&] { run_steps(j, steps, r); }),
              "step update failed; run the same command again to resume");
    EXPECT_EQ(r.abandons, 0);
    EXPECT_EQ(status_of(state.path(), "update"), StepStatus::failed);
}

TEST(StepLoop, AStepThatJournalsItselfIsNotFinishedAgainAndWhatItSkippedIsReloaded) {
    TempDir state;
    Recorder r;
    std::vector<BoundStep> steps{r.step(StepName::engine_upgrade_check), r.step(StepName::engine_setup),
                                 r.step(StepName::update)};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    steps[0].run = [&](bool) {
        r.ran.push_back("engine-upgrade-check");
        j.finish_step("engine-upgrade-check");
        j.set_step_data("engine-setup", json(SkippedData{"no upgrade"}));
        j.finish_step("engine-setup");
        return StepEnd::journaled;
    };
    EXPECT_TRUE(run_steps(j, steps, r));
    EXPECT_EQ(r.ran, (std::vector<std::string>{"engine-upgrade-check", "update"}));
    EXPECT_EQ(r.reloaded, std::vector<std::string>{"engine-setup"});
    EXPECT_EQ(Journal::load(state.path())->step("engine-setup").data.get<SkippedData>().skipped, "no upgrade");
    // No "done" line for the step that journaled itself: it said what it did.
    for (const auto& m : r.messages) EXPECT_NE(m, "step engine-upgrade-check: done");
}

// Each step's start, end and failure reach the hooks (the step log and syslog), after the
// journal has them; a step that journaled itself done ends done too.
TEST(StepLoop, EveryStepsStartEndAndFailureIsToldAfterTheJournalHasIt) {
    TempDir state;
    Recorder r;
    std::vector<BoundStep> steps{r.step(StepName::verify), r.step(StepName::engine_upgrade_check),
                                 r.step(StepName::engine_setup),
                                 r.step(StepName::update, [] { throw std::runtime_error("yum exited with 1"); })};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    r.journal = &j;
    steps[1].run = [&](bool) {
        j.finish_step("engine-upgrade-check");
        j.finish_step("engine-setup");
        return StepEnd::journaled;
    };
    EXPECT_THROW(run_steps(j, steps, r), StepFailed);
    EXPECT_EQ(r.events,
              (std::vector<std::string>{
                  "verify running (journal: running)", "verify done (journal: done)",
                  "engine-upgrade-check running (journal: running)", "engine-upgrade-check done (journal: done)",
                  "update running (journal: running)", "update failed: yum exited with 1 (journal: failed)"}));
}

TEST(StepLoop, AStepsStopBeforeEndsTheRunWithTheStepStillPending) {
    TempDir state;
    Recorder r;
    std::vector<BoundStep> steps{r.step(StepName::kernel_check), r.step(StepName::activate)};
    steps[1].stop_before = [] { return true; };
    Journal j = Journal::open(state.path(), "host", kBundle, names_of(steps));
    EXPECT_FALSE(run_steps(j, steps, r));
    EXPECT_EQ(r.ran, std::vector<std::string>{"kernel-check"});
    EXPECT_EQ(status_of(state.path(), "activate"), StepStatus::pending);
}

TEST(StepLoop, ASignalDuringAStepThatFinishesEndsTheRunAfterIt) {
    TempDir state;
    catch_interrupts();
    clear_interrupt();
    Recorder r;
    std::vector<BoundStep> steps{r.step(StepName::engine_setup, [] { raise(SIGINT); }), r.step(StepName::update)};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    EXPECT_EQ(test::error_of<Interrupted>([&] { run_steps(j, steps, r); }),
              "interrupted after step engine-setup; run the same command again to resume");
    clear_interrupt();
    EXPECT_EQ(r.ran, std::vector<std::string>{"engine-setup"});
    EXPECT_EQ(r.give_backs, 1);
    EXPECT_EQ(status_of(state.path(), "engine-setup"), StepStatus::done);
    EXPECT_EQ(status_of(state.path(), "update"), StepStatus::pending);
}

TEST(StepLoop, AStepInterruptedItselfIsJournaledAsInterrupted) {
    TempDir state;
    clear_interrupt();
    Recorder r;
    std::vector<BoundStep> steps{
        r.step(StepName::update, [] { throw Interrupted("yum ended with 130 on the signal"); })};
    Journal j = Journal::open(state.path(), "engine", kBundle, names_of(steps));
    EXPECT_EQ(test::error_of<Interrupted>([&] { run_steps(j, steps, r); }),
              "interrupted during step update; run the same command again to resume");
    EXPECT_EQ(Journal::load(state.path())->step("update").error, "interrupted (yum ended with 130 on the signal)");
}

// A journal as the applier wrote it before the steps were a table resumes with today's names
// and its step data reads into the typed structs.
TEST(StepLoop, AJournalWrittenBeforeTheTableResumes) {
    TempDir state;
    json steps = json::array();
    const std::map<std::string, json> data{{"verify", {{"manifest_sha256", "ab12"}}},
                                           {"stage", {{"dir", (state.path() / "staged/x").string()}}},
                                           {"preflight", {{"kernel", "3.10.0-1062.el7.x86_64"}, {"packages", 7}}},
                                           {"repos", {{"changes", json::array()}, {"active", true}}}};
    for (const auto& name : engine_steps()) {
        bool done = data.count(name) > 0;
        steps.push_back(
            {{"name", name}, {"status", done ? "done" : "pending"}, {"data", done ? data.at(name) : json::object()}});
    }
    test::write_file(Journal::journal_file(state.path()),
                     json{{"state_version", 1},
                          {"command", "engine"},
                          {"bundle", {{"id", kBundle.id}, {"serial", kBundle.serial}, {"path", kBundle.path}}},
                          {"created", "2026-12-02T03:00:00Z"},
                          {"updated", "2026-12-02T03:10:12Z"},
                          {"steps", steps}}
                         .dump(2));
    Journal j = Journal::open(state.path(), "engine", kBundle, engine_steps());
    ASSERT_TRUE(j.resumed());
    EXPECT_EQ(j.steps()[*j.first_unfinished_step()].name, "engine-upgrade-check");
    EXPECT_EQ(j.step("verify").data.get<VerifyData>().manifest_sha256, "ab12");
    EXPECT_EQ(j.step("preflight").data.get<PreflightData>().kernel, "3.10.0-1062.el7.x86_64");
    EXPECT_EQ(j.step("preflight").data.get<PreflightData>().packages, 7u);
    EXPECT_TRUE(j.step("repos").data.get<ReposData>().active);
}

}  // namespace
}  // namespace airgap::repo
