#include "repo/state/journal.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "repo/base/error.hpp"
#include "repo/state/atomic_file.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap;
using namespace airgap::repo;
using nlohmann::json;
using test::error_of;
using test::read_file;

namespace {

const std::vector<std::string> kSteps = {"verify",       "stage",        "preflight",  "repos", "upgrade-check",
                                         "update-setup", "engine-setup", "yum-update", "finish"};
const JournalBundle kBundle{"0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10", 42, "/media/ovirt-4.3.10.iso"};
const JournalBundle kOther{"11111111-2222-4333-8444-555555555555", 43, "/media/next.iso"};

// Runs `body` in a child process that then dies by SIGKILL (as if killed mid-run).
template <class F>
void in_killed_child(F&& body) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        try {
            body();
        } catch (...) {
            ::_exit(1);
        }
        ::kill(::getpid(), SIGKILL);
        ::_exit(2);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

}  // namespace

TEST(Journal, FreshJournalIsWrittenWithEveryStepPending) {
    test::TempDir dir;
    const fs::path state = dir.path() / "var/lib/ovirt-airgap";
    Journal j = Journal::open(state, "engine", kBundle, kSteps);
    EXPECT_FALSE(j.resumed());
    EXPECT_EQ(j.first_unfinished_step(), std::optional<std::size_t>(0));
    json on_disk = json::parse(read_file(state / "journal.json"));
    EXPECT_EQ(on_disk["state_version"], 1);
    EXPECT_EQ(on_disk["command"], "engine");
    EXPECT_EQ(on_disk["bundle"]["id"], kBundle.id);
    EXPECT_EQ(on_disk["bundle"]["serial"], 42);
    EXPECT_EQ(on_disk["steps"].size(), kSteps.size());
    EXPECT_EQ(on_disk["steps"][6]["name"], "engine-setup");
    EXPECT_EQ(on_disk["steps"][6]["status"], "pending");
    struct stat st {};
    ASSERT_EQ(::stat((state / "journal.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(Journal::default_state_dir(), fs::path("/var/lib/ovirt-airgap"));
}

TEST(Journal, EveryTransitionIsOnDiskBeforeTheCallReturns) {
    test::TempDir dir;
    Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
    j.begin_step("verify");
    EXPECT_EQ(Journal::load(dir.path())->step("verify").status, StepStatus::running);
    EXPECT_FALSE(Journal::load(dir.path())->step("verify").started.empty());
    j.finish_step("verify");
    auto loaded = Journal::load(dir.path());
    EXPECT_EQ(loaded->step("verify").status, StepStatus::done);
    EXPECT_EQ(loaded->first_unfinished_step(), std::optional<std::size_t>(1));
    j.set_step_data("repos", {{"disabled", {{"CentOS-Base.repo", "[base]\nenabled=1\n"}}}});
    EXPECT_EQ(Journal::load(dir.path())->step("repos").data["disabled"]["CentOS-Base.repo"], "[base]\nenabled=1\n");
    j.begin_step("stage");
    j.fail_step("stage", "cannot mount /media/ovirt-4.3.10.iso");
    loaded = Journal::load(dir.path());
    EXPECT_EQ(loaded->step("stage").status, StepStatus::failed);
    EXPECT_EQ(loaded->step("stage").error, "cannot mount /media/ovirt-4.3.10.iso");
    EXPECT_THROW(j.begin_step("no-such-step"), std::out_of_range);
}

TEST(Journal, AStepKilledWhileRunningIsRunAgain) {
    test::TempDir dir;
    in_killed_child([&] {
        Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
        for (const char* s : {"verify", "stage", "preflight", "repos", "upgrade-check", "update-setup"}) {
            j.begin_step(s);
            j.finish_step(s);
        }
        j.begin_step("engine-setup");
    });
    Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
    EXPECT_TRUE(j.resumed());
    ASSERT_EQ(j.first_unfinished_step(), std::optional<std::size_t>(6));
    EXPECT_EQ(j.steps()[6].name, "engine-setup");
    EXPECT_EQ(j.steps()[6].status, StepStatus::running);
    EXPECT_EQ(j.steps()[5].status, StepStatus::done);
    std::string summary = j.summary();
    EXPECT_NE(summary.find("  done        update-setup"), std::string::npos) << summary;
    EXPECT_NE(summary.find("  interrupted engine-setup   since "), std::string::npos) << summary;
    EXPECT_NE(summary.find("(will be re-run)\n"), std::string::npos) << summary;
    EXPECT_NE(summary.find("next step: engine-setup (run `ovirt-applier engine` with the same bundle again to resume)"),
              std::string::npos)
        << summary;
    j.begin_step("engine-setup");
    j.finish_step("engine-setup");
    EXPECT_EQ(Journal::load(dir.path())->first_unfinished_step(), std::optional<std::size_t>(7));
}

TEST(Journal, AFailedStepIsWhereARerunResumes) {
    test::TempDir dir;
    {
        Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
        j.finish_step("verify");
        j.begin_step("stage");
        j.fail_step("stage", "no space left");
    }
    JournalBundle moved = kBundle;
    moved.path = "/run/media/usb/bundle";
    Journal j = Journal::open(dir.path(), "engine", moved, kSteps);
    EXPECT_TRUE(j.resumed());
    EXPECT_EQ(j.first_unfinished_step(), std::optional<std::size_t>(1));
    EXPECT_EQ(j.step("stage").error, "no space left");
    EXPECT_EQ(Journal::load(dir.path())->bundle().path, "/run/media/usb/bundle");
    EXPECT_NE(j.summary().find("  failed      stage          "), std::string::npos) << j.summary();
    EXPECT_NE(j.summary().find(": no space left\n"), std::string::npos) << j.summary();
    j.begin_step("stage");
    EXPECT_TRUE(j.step("stage").error.empty());
}

TEST(Journal, AnUnfinishedRunOfAnotherBundleOrCommandIsNotOverwritten) {
    test::TempDir dir;
    {
        Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
        j.finish_step("verify");
    }
    const std::string expected = (dir.path() / "journal.json").string() +
                                 " records an unfinished `ovirt-applier engine` of bundle " + kBundle.id +
                                 " (serial 42, from /media/ovirt-4.3.10.iso), stopped at step stage: run that "
                                 "command with that bundle again to finish it, or move the journal aside to abandon it";
    EXPECT_EQ(error_of<ConfigError>([&] { Journal::open(dir.path(), "engine", kOther, kSteps); }), expected);
    EXPECT_EQ(error_of<ConfigError>([&] {
                  Journal::open(dir.path(), "host", kBundle, {"verify", "stage", "repos"});
              }),
              expected);
    EXPECT_EQ(error_of<ConfigError>([&] {
                  Journal::open(dir.path(), "engine", kBundle, {"verify", "stage"});
              }),
              (dir.path() / "journal.json").string() + " records an unfinished run with other steps (" +
                  "verify, stage, preflight, repos, upgrade-check, update-setup, engine-setup, yum-update, finish" +
                  ") than this ovirt-applier's (verify, stage): finish it with the ovirt-applier that wrote it, or " +
                  "move the journal aside");
    EXPECT_EQ(Journal::load(dir.path())->bundle().id, kBundle.id);
}

TEST(Journal, ACompleteRunIsReplacedByTheNextOne) {
    test::TempDir dir;
    {
        Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
        for (const auto& s : kSteps) j.finish_step(s);
        EXPECT_TRUE(j.complete());
        EXPECT_NE(j.summary().find("all steps done\n"), std::string::npos);
        j.record_applied();
    }
    Journal j = Journal::open(dir.path(), "host", kOther, {"verify", "stage", "repos"});
    EXPECT_FALSE(j.resumed());
    EXPECT_EQ(j.first_unfinished_step(), std::optional<std::size_t>(0));
    EXPECT_EQ(Journal::load(dir.path())->bundle().id, kOther.id);
    EXPECT_EQ(last_applied_serial(dir.path()), std::optional<std::uint64_t>(42));
}

TEST(Journal, UnknownStateVersionOrDamageIsAClearConfigError) {
    test::TempDir dir;
    const fs::path file = dir.path() / "journal.json";
    EXPECT_EQ(Journal::load(dir.path()), std::nullopt);
    write_file_atomic(file, R"({"state_version": 2, "command": "engine"})");
    EXPECT_EQ(error_of<ConfigError>([&] { Journal::load(dir.path()); }),
              "the journal " + file.string() +
                  " has state_version 2, but this ovirt-applier knows only 1: finish the run with the ovirt-applier "
                  "that wrote it, or move the file aside");
    EXPECT_EQ(error_of<ConfigError>([&] { Journal::open(dir.path(), "engine", kBundle, kSteps); }),
              error_of<ConfigError>([&] { Journal::load(dir.path()); }));
    write_file_atomic(file, "{\"state_version\": 1, \"comm");
    EXPECT_EQ(error_of<ConfigError>([&] { Journal::load(dir.path()); }),
              "the journal " + file.string() +
                  " is damaged (not valid JSON): move it aside to start over (the run it describes is then not "
                  "resumed)");
    write_file_atomic(file, R"({"command": "engine"})");
    EXPECT_EQ(error_of<ConfigError>([&] { Journal::load(dir.path()); }),
              "the journal " + file.string() +
                  " has no state_version: move it aside to start over (the run it describes is then not resumed)");
    write_file_atomic(file, R"({"state_version": 1, "command": "engine", "bundle": {"id": "x", "serial": 1},
                                "steps": [{"name": "verify", "status": "half-done"}]})");
    EXPECT_EQ(error_of<ConfigError>([&] { Journal::load(dir.path()); }),
              "the journal " + file.string() +
                  " is damaged (unknown step status \"half-done\"): move it aside to start over (the run it "
                  "describes is then not resumed)");
}

TEST(Journal, AppliedSerialIsKeptInItsOwnFile) {
    test::TempDir dir;
    EXPECT_EQ(read_applied(dir.path()), std::nullopt);
    EXPECT_EQ(last_applied_serial(dir.path()), std::nullopt);
    write_applied(dir.path(), {kBundle.id, 42, "engine", "2026-11-25T14:00:00Z"});
    auto r = read_applied(dir.path());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bundle_id, kBundle.id);
    EXPECT_EQ(r->serial, 42u);
    EXPECT_EQ(r->command, "engine");
    EXPECT_EQ(r->applied, "2026-11-25T14:00:00Z");
    write_file_atomic(Journal::applied_file(dir.path()), "{}");
    EXPECT_EQ(error_of<ConfigError>([&] { last_applied_serial(dir.path()); }),
              "cannot read " + Journal::applied_file(dir.path()).string() +
                  " (key 'state_version' not found): it holds the last applied "
                  "serial that protects against rollback; restore it, or remove it to accept any serial");
}

// A serial of -1 (read as 2^64-1 by an unsigned reader) would refuse every later bundle.
TEST(Journal, ANegativeOrHugeAppliedSerialIsDamageNotAFreeze) {
    test::TempDir dir;
    for (const std::string serial : {"-1", "18446744073709551615"}) {
        write_file_atomic(Journal::applied_file(dir.path()),
                          "{\"state_version\": 1, \"bundle_id\": \"" + kBundle.id + "\", \"serial\": " + serial + "}");
        EXPECT_EQ(error_of<ConfigError>([&] { last_applied_serial(dir.path()); }),
                  "cannot read " + Journal::applied_file(dir.path()).string() + " (serial " + serial +
                      " is not a bundle serial): it holds the last applied serial that protects against rollback; "
                      "restore it, or remove it to accept any serial")
            << serial;
    }
}

TEST(Journal, StatusShowsTheRunTheLockHolderAndTheLastApplied) {
    test::TempDir dir;
    EXPECT_EQ(render_status(dir.path()), "no run recorded in " + dir.path().string() + "\nno bundle applied yet\n");
    FileLock lock(Journal::lock_file(dir.path()));
    Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
    j.finish_step("verify");
    j.begin_step("stage");
    write_applied(dir.path(), {kOther.id, 41, "engine", "2026-10-01T08:00:00Z"});
    std::string status = render_status(dir.path());
    EXPECT_EQ(status.substr(0, status.find('\n')),
              "ovirt-applier engine: bundle " + kBundle.id + " (serial 42) from /media/ovirt-4.3.10.iso");
    EXPECT_NE(status.find("  running     stage          since "), std::string::npos) << status;
    EXPECT_NE(status.find("(pid " + std::to_string(::getpid()) + ")\n"), std::string::npos) << status;
    EXPECT_NE(status.find("  pending     engine-setup\n"), std::string::npos) << status;
    EXPECT_EQ(status.find("next step"), std::string::npos) << status;
    EXPECT_NE(status.find("last applied: bundle " + kOther.id +
                          " (serial 41) by `ovirt-applier engine` on 2026-10-01T08:00:00Z\n"),
              std::string::npos)
        << status;
    lock.release();
    EXPECT_NE(render_status(dir.path()).find("  interrupted stage"), std::string::npos);
}

TEST(Journal, AWriterKilledAtAnyMomentLeavesAParseableJournal) {
    test::TempDir dir;
    Journal::open(dir.path(), "engine", kBundle, kSteps);
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> delay_us(0, 20000);
    // Rounds where the kill left a temp file: the case this test is about. A busy machine can
    // kill a writer before its first write, so rounds go on (up to a bound) until enough cut one
    // and the last one left a temp file for the final writer to clear.
    const int wanted_cuts = 5;
    std::set<fs::path> temp_files;  // each left by one killed writer (a later one removes it)
    int cut_mid_write = 0;
    bool left_by_last = false;
    int round = 0;
    for (; round < 200 && (round < 25 || cut_mid_write < wanted_cuts || !left_by_last); ++round) {
        pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            try {
                Journal j = Journal::open(dir.path(), "engine", kBundle, kSteps);
                // Large data makes each write long enough to be cut in the middle.
                for (int i = 0;; ++i)
                    j.set_step_data("repos", {{"round", round}, {"i", i}, {"blob", std::string(200000, 'x')}});
            } catch (...) {
                ::_exit(1);
            }
        }
        ::usleep(static_cast<useconds_t>(2000 + delay_us(rng)));
        ::kill(child, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "writer failed: " << status;
        std::optional<Journal> loaded;
        ASSERT_NO_THROW(loaded = Journal::load(dir.path())) << "round " << round;
        ASSERT_TRUE(loaded);
        const json& data = loaded->step("repos").data;
        if (!data.empty()) {
            EXPECT_EQ(data["blob"].get<std::string>().size(), 200000u);
        }
        left_by_last = false;
        for (const auto& e : fs::directory_iterator(dir.path())) {
            if (e.path().filename().string().rfind(".journal.json.tmp-", 0) != 0) continue;
            temp_files.insert(e.path());
            left_by_last = true;
        }
        cut_mid_write = static_cast<int>(temp_files.size());
    }
    RecordProperty("cut_mid_write", cut_mid_write);
    EXPECT_GE(cut_mid_write, wanted_cuts) << "in " << round << " rounds, too few kills came in the middle of a write";
    ASSERT_TRUE(left_by_last) << "no temp file left for the next writer to clear";
    // The next writer (holding the lock) clears what the killed ones left beside the journal.
    Journal::open(dir.path(), "engine", kBundle, kSteps);
    for (const auto& e : fs::directory_iterator(dir.path()))
        EXPECT_EQ(e.path().filename().string().find(".journal.json.tmp-"), std::string::npos) << e.path();
}
