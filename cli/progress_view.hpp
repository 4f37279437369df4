#pragma once
// What both programs show of a repo::Reporter: lines as they come, and the progress of long
// work either as one line redrawn in place on a terminal or as a clean line every few seconds
// in a log (no escape codes there). The rate shown is the current one, measured over a moving
// window; no rate is shown before one was measured over a real interval; a transfer that
// moved no byte for a whole window is shown as "stalled".
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>

#include "repo/base/reporter.hpp"

namespace airgap::cli {

/// How a ProgressView draws (outside the class, so that it can be a default argument).
struct ProgressViewOptions {
    std::string prefix;                         ///< put before every message line ("ovirt-applier: ")
    std::chrono::milliseconds redraw{200};      ///< terminal: at most this often
    std::chrono::milliseconds log_every{5000};  ///< log: one line this often
    std::chrono::milliseconds window{5000};     ///< the rate's window; no byte in it: stalled
    std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;  ///< tests: their own
    std::function<bool()> cancelled;                                                              ///< empty: never
};

class ProgressView : public repo::Reporter {
public:
    using Clock = std::chrono::steady_clock;
    enum class Mode { terminal, log };

    using Options = ProgressViewOptions;

    /// Messages and program output go to `out`, progress to `progress` (the same stream, or
    /// stderr while stdout keeps the result).
    ProgressView(std::ostream& out, std::ostream& progress, Mode mode, Options options = {});
    /// `terminal` when `fd` is one, else `log`.
    static Mode mode_of(int fd);

    void message(const std::string& line) override;
    void output(const char* data, std::size_t size) override;
    /// Items the first report of a piece of work counts as done were there before it started
    /// (packages from the cache): they are said to come from there, and neither counted as
    /// done by it nor in its rate.
    void progress(const repo::Progress& p) override;
    bool cancelled() override;

private:
    struct Work {
        std::string what;
        std::uint64_t base_bytes = 0;
        std::size_t base_items = 0;
        Clock::time_point start{};
        Clock::time_point last_moved{};
        std::uint64_t last_done = 0;
        bool logged = false;                                              // a line of it was shown
        std::deque<std::pair<Clock::time_point, std::uint64_t>> samples;  // (when, bytes done)
    };

    void start(const repo::Progress& p, Clock::time_point now);
    /// Bytes per second over the window; 0 while there is no measure over a real interval.
    double current_rate() const;
    bool stalled(Clock::time_point now) const;
    std::string status(const repo::Progress& p, Clock::time_point now, bool finished) const;
    void draw(const std::string& line, bool finished);
    void clear_line();

    std::ostream& out_;
    std::ostream& progress_;
    Mode mode_;
    Options o_;
    bool active_ = false;  // a piece of work is under way
    bool drawn_ = false;   // the terminal shows an unfinished progress line
    Work work_;
    Clock::time_point last_shown_{};
};

}  // namespace airgap::cli
