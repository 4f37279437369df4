// The history of runs (STATE/history.json): one entry per run however often it is resumed,
// refusals of a damaged or unknown file, the pending reboot, and "already applied".
#include "repo/apply/run_history_private.hpp"

#include <gtest/gtest.h>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::repo;
using namespace airgap::test;

namespace {

const std::vector<std::string> kSteps = {"verify", "stage", "kernel-check"};

Journal open_run(const fs::path& state, const std::string& id) {
    return Journal::open(state, "engine", JournalBundle{id, 7, "/media/b.iso"}, kSteps);
}

RunRecord run(const std::string& result, bool checked, std::optional<RunReboot> reboot = std::nullopt) {
    RunRecord r;
    r.result = result;
    r.kernel_checked = checked;
    r.reboot = std::move(reboot);
    return r;
}

}  // namespace

TEST(RunHistory, AResumedRunIsOneEntryWithMoreAttempts) {
    TempDir t;
    EXPECT_TRUE(load_history(t.path()).empty());
    {
        Journal j = open_run(t.path(), "a");
        history_run_started(j);
        j.begin_step("verify");
        j.fail_step("verify", "boom");
        history_run_ended(j, "failed");
    }
    auto h = load_history(t.path());
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].id, 1u);
    EXPECT_EQ(h[0].result, "failed");
    EXPECT_EQ(h[0].step, "verify");
    EXPECT_EQ(h[0].error, "boom");
    EXPECT_EQ(h[0].bundle.serial, 7u);

    Journal j = open_run(t.path(), "a");
    ASSERT_TRUE(j.resumed());
    history_run_started(j);
    EXPECT_EQ(load_history(t.path())[0].result, "running");
    for (const auto& s : kSteps) j.finish_step(s);
    j.set_step_data("kernel-check", {{"installed", "k2"}, {"running", "k1"}, {"reboot_needed", true}});
    history_run_ended(j, "done");
    h = load_history(t.path());
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].attempts, 2u);
    EXPECT_EQ(h[0].result, "done");
    EXPECT_EQ(h[0].step, "");
    ASSERT_TRUE(h[0].reboot);
    EXPECT_EQ(h[0].reboot->installed, "k2");

    // The next journal is the next run.
    Journal next = open_run(t.path(), "b");
    history_run_started(next);
    h = load_history(t.path());
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[1].id, 2u);
    EXPECT_EQ(h[1].bundle.id, "b");
}

TEST(RunHistory, ADamagedOrUnknownHistoryIsRefusedWithAdvice) {
    TempDir t;
    write_file(history_file(t.path()), "{\"history_version\": 1, \"runs\": [");
    EXPECT_EQ(error_of<airgap::ConfigError>([&] { load_history(t.path()); }),
              "the history " + history_file(t.path()).string() +
                  " is damaged: move it aside (the history starts again; nothing else depends on it)");
    write_file(history_file(t.path()), "{\"history_version\": 2, \"runs\": []}");
    EXPECT_EQ(error_of<airgap::ConfigError>([&] { load_history(t.path()); }),
              "the history " + history_file(t.path()).string() +
                  " has history_version 2, but this ovirt-applier knows only 1: move it aside (the history starts "
                  "again; nothing else depends on it)");
}

TEST(RunHistory, TheNewestKernelCheckDecidesTheRebootNotice) {
    std::vector<RunRecord> h = {run("done", true, RunReboot{"k2", "k1"}), run("done", false)};
    auto pending = pending_reboot(h, std::nullopt);
    ASSERT_TRUE(pending) << "a later run without a kernel check does not hide it";
    EXPECT_EQ(pending->reboot->running, "k1");
    EXPECT_EQ(pending_reboot(h, std::string("k3"))->reboot->running, "k3");
    EXPECT_FALSE(pending_reboot(h, std::string("k2")));
    h.push_back(run("done", true));
    EXPECT_FALSE(pending_reboot(h, std::nullopt)) << "a later check found nothing to reboot for";
}

TEST(RunHistory, AlreadyAppliedIsTheSameIdSerialAndSignedManifest) {
    AppliedRecord a{"id-1", 5, "engine", "2026-12-02T10:00:00Z", "abc"};
    EXPECT_EQ(already_applied({a}, "id-1", 5, "abc").value_or(""),
              "bundle id-1 (serial 5) was applied by `ovirt-applier engine` on 2026-12-02T10:00:00Z: already "
              "applied, nothing to do");
    EXPECT_FALSE(already_applied({a}, "id-1", 5, "abd")) << "other bundle.json bytes";
    EXPECT_FALSE(already_applied({a}, "id-2", 5, "abc"));
    a.manifest_sha256.clear();
    EXPECT_FALSE(already_applied({a}, "id-1", 5, "abc")) << "a record that cannot tell";
}

// A finished run's entry is not reopened by the next journal, even one created in the same second.
TEST(RunHistory, TheNextRunOfTheSameBundleIsANewEntry) {
    TempDir t;
    Journal first = open_run(t.path(), "a");
    history_run_started(first);
    for (const auto& s : kSteps) first.finish_step(s);
    history_run_ended(first, "done");
    Journal second = open_run(t.path(), "a");
    ASSERT_FALSE(second.resumed());
    history_run_started(second);
    auto h = load_history(t.path());
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].result, "done");
    EXPECT_EQ(h[1].result, "running");
    EXPECT_EQ(h[1].attempts, 1u);
}
