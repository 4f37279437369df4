#include <gtest/gtest.h>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;

TEST(Error, NestedChainIsOneLineAndKeepsOuterExitCode) {
    try {
        try {
            throw std::runtime_error("checksum mismatch\nfor repodata/primary.xml.gz");
        } catch (...) {
            std::throw_with_nested(BundleRefused("bundle refused"));
        }
    } catch (const std::exception& e) {
        EXPECT_EQ(describe(e), "bundle refused: checksum mismatch for repodata/primary.xml.gz");
        EXPECT_EQ(exit_code_of(e), EXIT_REFUSED);
    }
}

TEST(Error, UnknownExceptionsAreUsageErrors) {
    EXPECT_EQ(exit_code_of(std::runtime_error("x")), EXIT_USAGE);
    EXPECT_EQ(exit_code_of(ResolveProblem("p", {})), EXIT_DEPENDENCY);
}

TEST(Cli, BundlerWithoutSubcommandIsAUsageError) {
    auto r = test::run_command({test::binary("ovirt-bundler").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("ovirt-bundler: error:"), std::string::npos) << r.err;
}
