// Starting programs: the command builder every applier step runs its programs through, with
// real children (sh, env, a missing program).
#include "repo/base/spawn.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

namespace airgap::repo {
namespace {

using test::error_of;
using test::read_file;
using test::TempDir;

TEST(SpawnCommand, OutputGoesToTheSinkAndTheLogAfterAHeader) {
    TempDir dir;
    std::string seen;
    Command c("sh");
    c.args({"-c", "echo out; echo err >&2; exit 3"});
    int code = c.run_logged(dir.path() / "logs/step.log", [&](const char* d, std::size_t n) { seen.append(d, n); });
    EXPECT_EQ(code, 3);
    EXPECT_NE(seen.find("out\n"), std::string::npos);
    EXPECT_NE(seen.find("err\n"), std::string::npos);
    std::string log = read_file(dir.path() / "logs/step.log");
    EXPECT_EQ(log.rfind("# sh -c echo out; echo err >&2; exit 3\n", 0), 0u) << log;
    EXPECT_NE(log.find("out\n"), std::string::npos);
    EXPECT_NE(log.find("err\n"), std::string::npos);
}

TEST(SpawnCommand, ALogIsAppendedToNotReplaced) {
    TempDir dir;
    Command("echo").arg("first").run_logged(dir.path() / "x.log");
    Command("echo").arg("second").run_logged(dir.path() / "x.log");
    EXPECT_EQ(read_file(dir.path() / "x.log"), "# echo first\nfirst\n# echo second\nsecond\n");
}

TEST(SpawnCommand, AKilledChildReports128PlusTheSignal) {
    TempDir dir;
    EXPECT_EQ(Command("sh").args({"-c", "kill -TERM $$"}).run_logged(dir.path() / "k.log"), 128 + 15);
}

TEST(SpawnCommand, StdinIsDevNull) {
    TempDir dir;
    std::string seen;
    // `cat` would wait for ever on an inherited terminal; /dev/null ends it at once.
    int code =
        Command("cat").run_logged(dir.path() / "c.log", [&](const char* d, std::size_t n) { seen.append(d, n); });
    EXPECT_EQ(code, 0);
    EXPECT_EQ(seen, "");
}

// A program asked for its answer (imgbase): stdout is the answer, its log on stderr is not.
TEST(SpawnCommand, RunCapturedKeepsStdoutAndDropsStderr) {
    std::string out;
    int code = Command("sh").args({"-c", "echo log >&2; echo answer; echo more; exit 3"}).run_captured(out);
    EXPECT_EQ(code, 3);
    EXPECT_EQ(out, "answer\nmore\n");
    EXPECT_THROW(Command("/nonexistent/airgap-program").run_captured(out), ConfigError);
}

TEST(SpawnCommand, EnvironmentAddsAndReplacesVariablesButNotOnTheCommandLine) {
    TempDir dir;
    ::setenv("AIRGAP_SPAWN_TEST", "old", 1);
    std::string seen;
    int code = Command("sh")
                   .args({"-c", "echo \"$AIRGAP_SPAWN_TEST $AIRGAP_SPAWN_NEW\""})
                   .env("AIRGAP_SPAWN_TEST", "new")
                   .env("AIRGAP_SPAWN_NEW", "secret-file")
                   .run_logged(dir.path() / "e.log", [&](const char* d, std::size_t n) { seen.append(d, n); });
    ::unsetenv("AIRGAP_SPAWN_TEST");
    EXPECT_EQ(code, 0);
    EXPECT_EQ(seen, "new secret-file\n");
    // The header shows the command line only: what went through the environment stays out of it.
    std::string log = read_file(dir.path() / "e.log");
    std::string header = log.substr(0, log.find('\n'));
    EXPECT_EQ(header, "# sh -c echo \"$AIRGAP_SPAWN_TEST $AIRGAP_SPAWN_NEW\"");
}

TEST(SpawnCommand, AProgramThatCannotStartIsAConfigErrorNamingIt) {
    TempDir dir;
    EXPECT_EQ(error_of<ConfigError>([&] { Command("/nonexistent/tool").arg("-y").run_logged(dir.path() / "n.log"); }),
              "cannot run /nonexistent/tool: No such file or directory");
}

TEST(SpawnCommand, ALogThatCannotBeOpenedIsAConfigError) {
    TempDir dir;
    test::write_file(dir.path() / "file", "");
    // The log's directory is a regular file: nothing can be created under it.
    EXPECT_EQ(error_of<ConfigError>([&] { Command("true").run_logged(dir.path() / "file/sub.log"); }),
              "cannot open log " + (dir.path() / "file/sub.log").string());
}

TEST(SpawnCommand, OwnProcessGroupPutsTheChildInAGroupOfItsOwn) {
    TempDir dir;
    std::string seen;
    auto sink = [&](const char* d, std::size_t n) { seen.append(d, n); };
    // Field 5 of /proc/PID/stat is the process group: the shell's own pid when it has a group of its own.
    const std::string script = "echo $$ $(cut -d' ' -f5 /proc/$$/stat)";
    Command("sh").args({"-c", script}).own_process_group().run_logged(dir.path() / "g.log", sink);
    EXPECT_EQ(seen.substr(0, seen.find(' ')), seen.substr(seen.find(' ') + 1, seen.size() - seen.find(' ') - 2))
        << seen;
    seen.clear();
    Command("sh").args({"-c", script}).run_logged(dir.path() / "g.log", sink);
    EXPECT_EQ(seen.substr(seen.find(' ') + 1), std::to_string(::getpgrp()) + "\n") << seen;
}

TEST(SpawnCommand, FromArgvKeepsTheCommandLineAndRefusesAnEmptyOne) {
    Command c = Command::from_argv({"yum", "-y", "update"});
    EXPECT_EQ(c.program(), "yum");
    EXPECT_EQ(c.line(), "yum -y update");
    EXPECT_THROW(Command::from_argv({}), std::invalid_argument);
}

// A child that sleeps until it is killed: what a re-run finds of a killed run's engine-setup.
pid_t start_sleeper() {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    pid_t pid = 0;
    int rc = spawn_child({"sleep", "60"}, fa, pid);
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0);
    return pid;
}

TEST(ProcessRunning, ALiveChildRunsWithTheStartTimeItHad) {
    pid_t pid = start_sleeper();
    auto start = process_start_time(pid);
    ASSERT_TRUE(start);
    // The kernel's own view: field 22 of /proc/PID/stat, the one `ps -o lstart` shows.
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream after(stat.substr(stat.rfind(')') + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) after >> field;
    EXPECT_EQ(std::to_string(*start), field) << stat;
    EXPECT_TRUE(process_running(pid, *start));
    ::kill(pid, SIGKILL);
    wait_child(pid);
}

TEST(ProcessRunning, AReapedChildNoLongerRuns) {
    pid_t pid = start_sleeper();
    auto start = process_start_time(pid);
    ASSERT_TRUE(start);
    ::kill(pid, SIGKILL);
    int status = wait_child(pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_FALSE(process_running(pid, *start));
    EXPECT_FALSE(process_start_time(pid));
}

TEST(ProcessRunning, AnEndedChildNotYetReapedNoLongerRuns) {
    pid_t pid = start_sleeper();
    auto start = process_start_time(pid);
    ASSERT_TRUE(start);
    ::kill(pid, SIGKILL);
    // A zombie until waited for: it changes nothing any more (yum's lock check ignores one too).
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
    EXPECT_FALSE(process_running(pid, *start));
    wait_child(pid);
}

TEST(ProcessRunning, APidWithAnotherStartTimeIsAnotherProcess) {
    pid_t pid = start_sleeper();
    auto start = process_start_time(pid);
    ASSERT_TRUE(start);
    EXPECT_FALSE(process_running(pid, *start + 1));
    EXPECT_FALSE(process_running(pid, *start - 1));
    ::kill(pid, SIGKILL);
    wait_child(pid);
}

TEST(SpawnCommand, OnStartGetsTheChildsPidWhileItRuns) {
    TempDir dir;
    pid_t seen = 0;
    bool running_then = false;
    std::string out;
    Command c("sh");
    c.args({"-c", "echo $$; sleep 0.2"}).on_start([&](pid_t pid) {
        seen = pid;
        auto start = process_start_time(pid);
        running_then = start && process_running(pid, *start);
    });
    EXPECT_EQ(c.run_captured(out), 0);
    EXPECT_EQ(out, std::to_string(seen) + "\n");
    EXPECT_TRUE(running_then);
}

// An applier killed with -9 while engine-setup or yum runs must not take them down with it: the
// child writes its log itself, so its next line finds no broken pipe (with a pipe, sh dies of
// SIGPIPE at `echo late` and never writes its marker).
TEST(SpawnCommand, AChildOutlivesItsKilledCallerAndFinishesItsLog) {
    TempDir dir;
    const std::filesystem::path log = dir.path() / "logs" / "child.log";
    const std::filesystem::path started = dir.path() / "started", finished = dir.path() / "finished";
    pid_t caller = ::fork();
    ASSERT_GE(caller, 0);
    if (caller == 0) {
        try {
            Command("sh")
                .args(
                    {"-c", "echo early; : > " + started.string() + "; sleep 0.5; echo late; : > " + finished.string()})
                .own_process_group()
                .run_logged(log, [](const char*, std::size_t) {});
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    for (int i = 0; i < 200 && !std::filesystem::exists(started); ++i) ::usleep(10 * 1000);
    ASSERT_TRUE(std::filesystem::exists(started));
    ASSERT_EQ(::kill(caller, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(caller, &status, 0), caller);
    for (int i = 0; i < 500 && !std::filesystem::exists(finished); ++i) ::usleep(10 * 1000);
    EXPECT_TRUE(std::filesystem::exists(finished));
    std::string text = read_file(log);
    EXPECT_NE(text.find("early\n"), std::string::npos) << text;
    EXPECT_NE(text.find("late\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace airgap::repo
