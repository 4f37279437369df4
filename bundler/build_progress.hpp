#pragma once
// The progress of `build` on stderr: a redrawn line on a terminal, plain lines in a log.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>

#include "repo/bundle_build.hpp"

namespace airgap::bundler {

class BuildProgress : public repo::BuildCallbacks {
public:
    using Clock = std::chrono::steady_clock;

    /// `tty`: redraw one line (at most five times a second); else a line every 5 s. `now` is
    /// the clock (tests give their own).
    BuildProgress(std::ostream& err, bool tty, std::function<Clock::time_point()> now = Clock::now);

    void message(const std::string& line) override;
    /// Counts only what is downloaded: the packages the cache held when the batch started are
    /// said to come from it, not to be downloaded. The rate is the current one, over the last
    /// few seconds, and none is shown before there is one to show.
    bool download(std::uint64_t done_bytes, std::uint64_t total_bytes, std::size_t done_files,
                  std::size_t total_files) override;
    bool cancelled() override;
    bool pack(std::uint64_t done, std::uint64_t total) override;

private:
    void end_line();
    /// Bytes per second over the samples of the last few seconds; 0 while unknown.
    double current_rate() const;

    std::ostream& err_;
    bool tty_;
    std::function<Clock::time_point()> now_;
    bool drawn_ = false;
    bool started_ = false;
    std::uint64_t cached_bytes_ = 0;
    std::size_t cached_files_ = 0;
    std::size_t logged_files_ = static_cast<std::size_t>(-1);
    std::deque<std::pair<Clock::time_point, std::uint64_t>> samples_;  // (when, bytes done)
    Clock::time_point last_{};
};

}  // namespace airgap::bundler
