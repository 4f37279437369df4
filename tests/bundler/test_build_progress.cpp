// The progress of `build` on a string stream with a clock of the test's own: packages the cache
// held are said to come from it, and the rate shown is the current one.
#include "bundler/build_progress.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/shared/testkit.hpp"

using namespace airgap;
using Clock = bundler::BuildProgress::Clock;
using std::chrono::seconds;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

struct Fixture {
    std::ostringstream out;
    Clock::time_point now{};
    bundler::BuildProgress progress{out, true, [this] { return now; }};
};

// The last state of the redrawn line (after the last '\r').
std::string drawn(const std::string& text) {
    std::string line = text.substr(text.rfind('\r') + 1);
    return line.substr(0, line.find('\033'));
}

TEST(BuildProgress, TheRateIsTheCurrentOneNotTheAverageSinceStart) {
    Fixture f;
    f.progress.download(0, 200 * MiB, 0, 20);
    // 20 s at 9 MiB/s, then the mirror slows to 1 MiB/s.
    std::uint64_t done = 0;
    for (int s = 1; s <= 20; ++s) {
        f.now += seconds(1);
        done += 9 * MiB;
        f.progress.download(done, 200 * MiB, 1, 20);
    }
    for (int s = 1; s <= 10; ++s) {
        f.now += seconds(1);
        done += MiB;
        f.progress.download(done, 200 * MiB, 2, 20);
    }
    // The average since start would be 6.3 MiB/s.
    EXPECT_EQ(drawn(f.out.str()), "downloading 2/20 packages, 190.0 MiB of 200.0 MiB, 1.0 MiB/s, 10 s left");
}

TEST(BuildProgress, NoRateBeforeThereIsOne) {
    Fixture f;
    f.progress.download(0, 10 * MiB, 0, 2);
    EXPECT_EQ(drawn(f.out.str()), "downloading 0/2 packages, 0 B of 10.0 MiB");
}

TEST(BuildProgress, PackagesTheCacheHeldAreNotSaidToBeDownloaded) {
    Fixture f;
    f.progress.download(30 * MiB, 40 * MiB, 3, 4);  // before any transfer: three were cached
    f.now += seconds(2);
    f.progress.download(40 * MiB, 40 * MiB, 4, 4);
    auto lines = test::lines_of(f.out.str());
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), "3 of 4 packages (30.0 MiB) taken from the cache");
    EXPECT_EQ(drawn(f.out.str()), "downloading 1/1 packages, 10.0 MiB of 10.0 MiB, 5.0 MiB/s");

    // All of them cached: nothing is said to be downloaded at all.
    std::ostringstream log;
    bundler::BuildProgress quiet(log, false);
    quiet.download(40 * MiB, 40 * MiB, 4, 4);
    EXPECT_EQ(log.str(), "4 of 4 packages (40.0 MiB) taken from the cache\n");
}

}  // namespace
