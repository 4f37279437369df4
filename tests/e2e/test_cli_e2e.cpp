// The command-line habits of both programs, run as a user types them: help, typos of
// commands and options, a command of the other program, defaults shown in --help.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/shared/testkit.hpp"

using namespace airgap::test;

namespace {

// The exit code and the whole of stderr: a usage error is exactly one line.
void expect_usage_error(const CommandResult& r, const std::string& line) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, line + "\n");
    EXPECT_EQ(r.out, "");
}

// The help line of `option` in `help` (CLI11 prints "  --jobs INT=4   Parallel downloads").
std::string help_line(const std::string& help, const std::string& option) {
    std::smatch m;
    if (std::regex_search(help, m, std::regex("\n  (" + option + "[ =][^\n]*)"))) return m[1];
    return "<" + option + " not in help>";
}

TEST(Cli, HelpAsACommandPrintsTheHelp) {
    for (const std::string prog : {"ovirt-bundler", "ovirt-applier"}) {
        CommandResult all = run_binary(prog, {"help"});
        EXPECT_EQ(all.exit_code, 0) << all.err;
        EXPECT_EQ(all.out, run_binary(prog, {"--help"}).out);
        EXPECT_NE(all.out.find("Subcommands:"), std::string::npos) << all.out;
    }
    CommandResult build = run_binary("ovirt-bundler", {"help", "build"});
    EXPECT_EQ(build.exit_code, 0) << build.err;
    EXPECT_EQ(build.out, run_binary("ovirt-bundler", {"build", "--help"}).out);
    EXPECT_NE(build.out.find("Usage: ovirt-bundler build"), std::string::npos) << build.out;
    CommandResult hosts = run_binary("ovirt-applier", {"help", "hosts"});
    EXPECT_NE(hosts.out.find("--cluster"), std::string::npos) << hosts.out;
}

TEST(Cli, AMisspeltCommandIsAnsweredWithTheClosestOne) {
    expect_usage_error(run_binary("ovirt-bundler", {"biuld"}),
                       "ovirt-bundler: error: unknown command 'biuld'; did you mean build? (see ovirt-bundler --help)");
    expect_usage_error(
        run_binary("ovirt-applier", {"statsu"}),
        "ovirt-applier: error: unknown command 'statsu'; did you mean status? (see ovirt-applier --help)");
    expect_usage_error(run_binary("ovirt-bundler", {"help", "resovle"}),
                       "ovirt-bundler: error: unknown command 'resovle'; did you mean resolve? (see ovirt-bundler "
                       "--help)");
    expect_usage_error(run_binary("ovirt-applier", {"frobnicate"}),
                       "ovirt-applier: error: unknown command 'frobnicate'; the commands are inventory, verify, "
                       "engine, host, status, hosts, publish and abandon (see ovirt-applier --help)");
}

TEST(Cli, TheOtherProgramsCommandSaysWhereItLives) {
    expect_usage_error(run_binary("ovirt-bundler", {"verify", "x.iso"}),
                       "ovirt-bundler: error: verify is an ovirt-applier command; ovirt-bundler's commands are "
                       "resolve, keygen, build and inspect (see ovirt-bundler --help)");
    expect_usage_error(run_binary("ovirt-bundler", {"publish", "x.iso"}),
                       "ovirt-bundler: error: publish is an ovirt-applier command; ovirt-bundler's commands are "
                       "resolve, keygen, build and inspect (see ovirt-bundler --help)");
    expect_usage_error(
        run_binary("ovirt-applier", {"build"}),
        "ovirt-applier: error: build is an ovirt-bundler command; ovirt-applier's commands are "
        "inventory, verify, engine, host, status, hosts, publish and abandon (see ovirt-applier --help)");
}

TEST(Cli, NoCommandListsTheCommands) {
    expect_usage_error(run_binary("ovirt-bundler", {}),
                       "ovirt-bundler: error: a command is required; the commands are resolve, keygen, build and "
                       "inspect (see ovirt-bundler --help)");
}

TEST(Cli, AMisspeltOptionIsAnsweredWithTheClosestOne) {
    expect_usage_error(run_binary("ovirt-bundler", {"resolve", "--rol", "engine", "-m", "m.yaml"}),
                       "ovirt-bundler: error: unknown option --rol; did you mean --role? (see ovirt-bundler resolve "
                       "--help)");
    expect_usage_error(run_binary("ovirt-applier", {"hosts", "--cluser=Default", "--engine-url", "https://e/api"}),
                       "ovirt-applier: error: unknown option --cluser; did you mean --cluster? (see ovirt-applier "
                       "hosts --help)");
    expect_usage_error(run_binary("ovirt-applier", {"verify", "b.iso", "--xyzzy"}),
                       "ovirt-applier: error: unknown option --xyzzy (see ovirt-applier verify --help)");
    // Other mistakes keep CLI11's words and get the same pointer.
    expect_usage_error(run_binary("ovirt-bundler", {"resolve"}),
                       "ovirt-bundler: error: --manifest is required (see ovirt-bundler resolve --help)");
}

TEST(Cli, HelpShowsTheDefaults) {
    std::string hosts = run_binary("ovirt-applier", {"hosts", "--help"}).out;
    EXPECT_NE(help_line(hosts, "--timeout-min").find("=120"), std::string::npos) << hosts;
    std::string engine = run_binary("ovirt-applier", {"engine", "--help"}).out;
    EXPECT_NE(help_line(engine, "--package-manager").find("=yum"), std::string::npos) << engine;
    EXPECT_NE(help_line(engine, "--engine-setup").find("=/usr/bin/engine-setup"), std::string::npos) << engine;
    std::string build = run_binary("ovirt-bundler", {"build", "--help"}).out;
    EXPECT_NE(help_line(build, "--jobs").find("=4"), std::string::npos) << build;
    // An option without a default shows none, not an empty "=" or "[]".
    EXPECT_EQ(help_line(build, "--inventory").find('='), std::string::npos) << build;
    EXPECT_EQ(help_line(build, "--inventory").find("[]"), std::string::npos) << build;
}

}  // namespace
