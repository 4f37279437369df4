// `--version` of both programs: CMake's project version, then `git describe` of the sources
// when they are a git checkout, as a user reports it with a bug.
#include <gtest/gtest.h>

#include <string>

#include "tests/shared/testkit.hpp"

using namespace airgap::test;

namespace {

// What the sources say: "0.1.0" plus " (git DESCRIBE)" in a checkout with git at hand.
std::string expected_version() {
    std::string version = AIRGAP_PROJECT_VERSION;
    CommandResult head = run_command({"git", "-C", AIRGAP_SOURCE_DIR, "rev-parse", "--short", "HEAD"});
    if (head.exit_code == 0) {
        CommandResult d = run_command({"git", "-C", AIRGAP_SOURCE_DIR, "describe", "--tags", "--always", "--dirty"});
        version += " (git " + lines_of(d.out).at(0) + ")";
    }
    return version;
}

TEST(Version, BothProgramsPrintTheProjectVersionAndGitDescribe) {
    for (const char* program : {"ovirt-applier", "ovirt-bundler"}) {
        CommandResult r = run_binary(program, {"--version"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, std::string(program) + " " + expected_version() + "\n");
        EXPECT_EQ(r.err, "");
    }
}

TEST(Version, NeedsNoSubcommandButStillRefusesUnknownOptions) {
    CommandResult r = run_binary("ovirt-applier", {"--versions"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("ovirt-applier: error: "), std::string::npos) << r.err;
}

}  // namespace
