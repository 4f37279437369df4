// The interrupt flag: a caught SIGINT/SIGTERM/SIGHUP is recorded, not fatal, and ends waits early.
#include "repo/base/interrupt.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "repo/base/error.hpp"

namespace airgap::repo {
namespace {

TEST(Interrupt, ASignalIsRecordedAndEndsAWaitEarly) {
    catch_interrupts();
    clear_interrupt();
    EXPECT_FALSE(interrupted());
    EXPECT_TRUE(sleep_unless_interrupted(std::chrono::milliseconds(10)));
    EXPECT_NO_THROW(throw_if_interrupted("stopped"));

    raise(SIGTERM);  // would end the test binary without the handler
    EXPECT_EQ(interrupt_signal(), SIGTERM);
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(sleep_unless_interrupted(std::chrono::seconds(30)));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    try {
        throw_if_interrupted("stopped at a step boundary");
        FAIL() << "no exception";
    } catch (const Interrupted& e) {
        EXPECT_STREQ(e.what(), "stopped at a step boundary");
        EXPECT_EQ(e.exit_code(), 130);
    }
    clear_interrupt();
    raise(SIGINT);
    EXPECT_EQ(interrupt_signal(), SIGINT);
    clear_interrupt();
    // A lost SSH session: stops like SIGTERM instead of ending the process between two writes.
    raise(SIGHUP);
    EXPECT_EQ(interrupt_signal(), SIGHUP);
    clear_interrupt();
}

}  // namespace
}  // namespace airgap::repo
