// How both programs show the library's progress, on string streams with a clock of the test's
// own: the rate is the current one, packages the cache held are said to come from it, a
// transfer that moves nothing is "stalled", and a log gets clean periodic lines.
#include "cli/progress_view.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "tests/shared/testkit.hpp"

using namespace airgap;
using cli::ProgressView;
using Clock = ProgressView::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

struct Fixture {
    explicit Fixture(ProgressView::Mode mode = ProgressView::Mode::terminal) : view(out, out, mode, options()) {}
    ProgressView::Options options() {
        ProgressView::Options o;
        o.now = [this] { return now; };
        return o;
    }
    void download(std::uint64_t done, std::uint64_t total, std::size_t files, std::size_t of) {
        view.progress({"downloading", done, total, files, of, "packages"});
    }
    void verify(std::uint64_t done, std::uint64_t total) { view.progress({"verifying", done, total}); }

    std::ostringstream out;
    Clock::time_point now{};
    ProgressView view;
};

// The last state of the redrawn line (after the last '\r').
std::string drawn(const std::string& text) {
    std::string line = text.substr(text.rfind('\r') + 1);
    return line.substr(0, line.find('\033'));
}

TEST(ProgressView, TheRateIsTheCurrentOneNotTheAverageSinceStart) {
    Fixture f;
    f.download(0, 200 * MiB, 0, 20);
    // 20 s at 9 MiB/s, then the mirror slows to 1 MiB/s.
    std::uint64_t done = 0;
    for (int s = 1; s <= 20; ++s) {
        f.now += seconds(1);
        done += 9 * MiB;
        f.download(done, 200 * MiB, 1, 20);
    }
    for (int s = 1; s <= 10; ++s) {
        f.now += seconds(1);
        done += MiB;
        f.download(done, 200 * MiB, 2, 20);
    }
    // The average since start would be 6.3 MiB/s.
    EXPECT_EQ(drawn(f.out.str()), "downloading 2/20 packages, 190.0 MiB of 200.0 MiB, 1.0 MiB/s, 10 s left");
}

TEST(ProgressView, NoRateBeforeThereIsOne) {
    Fixture f;
    f.download(0, 10 * MiB, 0, 2);
    EXPECT_EQ(drawn(f.out.str()), "downloading 0/2 packages, 0 B of 10.0 MiB");
}

TEST(ProgressView, TheFirstRateIsMeasuredOverARealInterval) {
    Fixture f;
    f.verify(0, 100 * MiB);
    // Two reports 1 ms apart: a "rate" from them would read 1000 MiB/s.
    f.now += milliseconds(1);
    f.verify(MiB, 100 * MiB);
    f.now += milliseconds(250);
    f.verify(2 * MiB, 100 * MiB);
    EXPECT_EQ(drawn(f.out.str()), "verifying 2.0 MiB of 100.0 MiB");
    f.now += milliseconds(750);  // one second since the start: 4 MiB in it
    f.verify(4 * MiB, 100 * MiB);
    EXPECT_EQ(drawn(f.out.str()), "verifying 4.0 MiB of 100.0 MiB, 4.0 MiB/s, 24 s left");
}

TEST(ProgressView, FrequentReportsKeepTheRateCurrent) {
    Fixture f;
    // A transfer reporting every 10 ms: 10 s at 8 MiB/s, then 10 s at 2 MiB/s.
    std::uint64_t done = 0;
    f.verify(0, 1024 * MiB);
    for (int i = 1; i <= 2000; ++i) {
        f.now += milliseconds(10);
        done += (i <= 1000 ? 8 : 2) * MiB / 100;
        f.verify(done, 1024 * MiB);
    }
    const std::string line = drawn(f.out.str());
    EXPECT_NE(line.find(", 2.0 MiB/s, "), std::string::npos) << line;
}

TEST(ProgressView, TimeLeftIsInMinutesForLongWork) {
    Fixture f;
    f.verify(0, 1024 * MiB);
    f.now += seconds(2);
    f.verify(2 * MiB, 1024 * MiB);  // 1 MiB/s, 1022 MiB to go
    EXPECT_EQ(drawn(f.out.str()), "verifying 2.0 MiB of 1.0 GiB, 1.0 MiB/s, 17 min left");
}

TEST(ProgressView, ATransferThatMovesNothingForAWindowIsStalled) {
    Fixture f;
    f.download(0, 10 * MiB, 0, 1);
    f.now += seconds(1);
    f.download(MiB, 10 * MiB, 0, 1);
    // libcurl keeps calling about once a second while nothing arrives.
    for (int s = 1; s <= 4; ++s) {
        f.now += seconds(1);
        f.download(MiB, 10 * MiB, 0, 1);
        EXPECT_EQ(drawn(f.out.str()).find("stalled"), std::string::npos) << s;
    }
    f.now += seconds(1);
    f.download(MiB, 10 * MiB, 0, 1);
    EXPECT_EQ(drawn(f.out.str()), "downloading 0/1 packages, 1.0 MiB of 10.0 MiB, stalled");
    // Bytes again: a rate again, and no longer stalled.
    f.now += seconds(1);
    f.download(2 * MiB, 10 * MiB, 0, 1);
    EXPECT_EQ(drawn(f.out.str()).find("stalled"), std::string::npos) << f.out.str();
    EXPECT_NE(drawn(f.out.str()).find("/s, "), std::string::npos) << f.out.str();
}

TEST(ProgressView, TheTerminalIsRedrawnAtMostFiveTimesASecond) {
    Fixture f;
    f.verify(0, 100 * MiB);
    for (int i = 1; i <= 100; ++i) {
        f.now += milliseconds(10);
        f.verify(static_cast<std::uint64_t>(i) * 10000, 100 * MiB);
    }
    // One second of reports: the first draw, then one every 200 ms.
    const std::string text = f.out.str();
    EXPECT_EQ(static_cast<int>(std::count(text.begin(), text.end(), '\r')), 6) << text;
}

TEST(ProgressView, PackagesTheCacheHeldAreNotSaidToBeDownloaded) {
    Fixture f;
    f.download(30 * MiB, 40 * MiB, 3, 4);  // before any transfer: three were cached
    f.now += seconds(2);
    f.download(40 * MiB, 40 * MiB, 4, 4);
    auto lines = test::lines_of(f.out.str());
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), "3 of 4 packages (30.0 MiB) taken from the cache");
    EXPECT_EQ(drawn(f.out.str()), "downloading 1/1 packages, 10.0 MiB of 10.0 MiB, 5.0 MiB/s");

    // All of them cached: nothing is said to be downloaded at all.
    std::ostringstream log;
    ProgressView quiet(log, log, ProgressView::Mode::log);
    quiet.progress({"downloading", 40 * MiB, 40 * MiB, 4, 4, "packages"});
    EXPECT_EQ(log.str(), "4 of 4 packages (40.0 MiB) taken from the cache\n");
}

TEST(ProgressView, ALogGetsACleanLineEveryFiveSecondsAndAClosingOne) {
    Fixture f(ProgressView::Mode::log);
    f.verify(0, 100 * MiB);
    for (int s = 1; s <= 12; ++s) {
        f.now += seconds(1);
        f.verify(static_cast<std::uint64_t>(s) * 5 * MiB, 100 * MiB);
    }
    f.now += seconds(1);
    f.verify(100 * MiB, 100 * MiB);
    EXPECT_EQ(f.out.str(),
              "verifying 25.0 MiB of 100.0 MiB, 5.0 MiB/s, 15 s left\n"
              "verifying 50.0 MiB of 100.0 MiB, 5.0 MiB/s, 10 s left\n"
              "verifying 100.0 MiB of 100.0 MiB, done in 13 s\n");
    EXPECT_EQ(f.out.str().find('\033'), std::string::npos);
    EXPECT_EQ(f.out.str().find('\r'), std::string::npos);
}

TEST(ProgressView, ShortWorkLeavesALogClean) {
    Fixture f(ProgressView::Mode::log);
    f.verify(0, MiB);
    f.now += milliseconds(300);
    f.verify(MiB, MiB);
    EXPECT_EQ(f.out.str(), "");
}

TEST(ProgressView, AStalledTransferIsSaidInTheLogToo) {
    Fixture f(ProgressView::Mode::log);
    f.download(0, 10 * MiB, 0, 1);
    for (int s = 1; s <= 10; ++s) {
        f.now += seconds(1);
        f.download(MiB, 10 * MiB, 0, 1);
    }
    auto lines = test::lines_of(f.out.str());
    ASSERT_EQ(lines.size(), 2u) << f.out.str();
    EXPECT_EQ(lines[1], "downloading 0/1 packages, 1.0 MiB of 10.0 MiB, stalled");
}

TEST(ProgressView, AMessageClearsTheProgressLineAndStaysOnItsOwn) {
    std::ostringstream out, err;
    ProgressView::Options o;
    o.prefix = "ovirt-applier: ";
    ProgressView view(out, err, ProgressView::Mode::terminal, o);
    view.progress({"staging", 0, 10 * MiB});
    view.message("staged a verified copy");
    view.output("yum says\n", 9);
    EXPECT_EQ(out.str(), "ovirt-applier: staged a verified copy\nyum says\n");
    EXPECT_EQ(err.str(), "\rstaging 0 B of 10.0 MiB\033[K\r\033[K");
}

TEST(ProgressView, CancelledAsksTheGivenFunction) {
    std::ostringstream out;
    bool stop = false;
    ProgressView::Options o;
    o.cancelled = [&] { return stop; };
    ProgressView view(out, out, ProgressView::Mode::log, o);
    EXPECT_FALSE(view.cancelled());
    stop = true;
    EXPECT_TRUE(view.cancelled());
    ProgressView never(out, out, ProgressView::Mode::log);
    EXPECT_FALSE(never.cancelled());
}

}  // namespace
