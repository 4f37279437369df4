#include "cli/progress_view.hpp"

#include "repo/base/text.hpp"

#include <unistd.h>

#include <cmath>
#include <ostream>
#include <sstream>

namespace airgap::cli {

namespace {
using repo::human_size;

// The rate needs at least this much time between two samples: a rate over a near-zero
// interval (the first two callbacks of a transfer) would be noise, not a measure.
constexpr auto kShortestMeasure = std::chrono::milliseconds(500);
constexpr auto kSampleEvery = std::chrono::milliseconds(100);

std::string time_left(double seconds) {
    auto s = std::llround(seconds);
    if (s < 120) return std::to_string(s) + " s";
    if (s < 7200) return std::to_string(s / 60) + " min";
    return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

}  // namespace

ProgressView::ProgressView(std::ostream& out, std::ostream& progress, Mode mode, Options options)
    : out_(out), progress_(progress), mode_(mode), o_(std::move(options)) {}

ProgressView::Mode ProgressView::mode_of(int fd) { return isatty(fd) == 1 ? Mode::terminal : Mode::log; }

void ProgressView::clear_line() {
    if (!drawn_) return;
    progress_ << "\r\033[K" << std::flush;
    drawn_ = false;
}

void ProgressView::message(const std::string& line) {
    clear_line();
    out_ << o_.prefix << line << "\n" << std::flush;
}

void ProgressView::output(const char* data, std::size_t size) {
    clear_line();
    out_.write(data, static_cast<std::streamsize>(size));
    out_.flush();
}

bool ProgressView::cancelled() { return o_.cancelled && o_.cancelled(); }

void ProgressView::start(const repo::Progress& p, Clock::time_point now) {
    work_ = Work{};
    work_.what = std::string(p.what);
    work_.start = work_.last_moved = now;
    work_.last_done = p.done;
    last_shown_ = now;
    active_ = true;
    if (p.total_items == 0 || p.done_items == 0) return;
    // Before any transfer: what is done already was there (the cache).
    work_.base_bytes = p.done;
    work_.base_items = p.done_items;
    message(std::to_string(p.done_items) + " of " + std::to_string(p.total_items) + " " + std::string(p.unit) + " (" +
            human_size(p.done) + ") taken from the cache");
}

double ProgressView::current_rate() const {
    const auto& s = work_.samples;
    if (s.size() < 2 || s.back().first - s.front().first < kShortestMeasure) return 0;
    const double secs = std::chrono::duration<double>(s.back().first - s.front().first).count();
    const double moved = static_cast<double>(s.back().second) - static_cast<double>(s.front().second);
    return moved > 0 ? moved / secs : 0;
}

bool ProgressView::stalled(Clock::time_point now) const { return now - work_.last_moved >= o_.window; }

std::string ProgressView::status(const repo::Progress& p, Clock::time_point now, bool finished) const {
    const std::uint64_t bytes = p.done > work_.base_bytes ? p.done - work_.base_bytes : 0;
    const std::uint64_t of_bytes = p.total > work_.base_bytes ? p.total - work_.base_bytes : 0;
    std::ostringstream line;
    line << p.what;
    if (p.total_items)
        line << " " << p.done_items - work_.base_items << "/" << p.total_items - work_.base_items << " " << p.unit
             << ",";
    line << " " << human_size(bytes) << " of " << human_size(of_bytes);
    const double rate = current_rate();
    if (finished && mode_ == Mode::log) {
        line << ", done in " << time_left(std::chrono::duration<double>(now - work_.start).count());
    } else if (!finished && stalled(now)) {
        line << ", stalled";
    } else if (rate > 0) {
        line << ", " << human_size(static_cast<std::uint64_t>(rate)) << "/s";
        if (of_bytes > bytes) line << ", " << time_left(static_cast<double>(of_bytes - bytes) / rate) << " left";
    }
    return line.str();
}

void ProgressView::draw(const std::string& line, bool finished) {
    if (mode_ == Mode::log) {
        progress_ << line << "\n" << std::flush;
        return;
    }
    progress_ << "\r" << line << "\033[K";
    if (finished) progress_ << "\n";
    progress_ << std::flush;
    drawn_ = !finished;
}

void ProgressView::progress(const repo::Progress& p) {
    const auto now = o_.now();
    // Bytes may go back (a broken transfer tried again): still the same work.
    if (!active_ || p.what != work_.what) start(p, now);
    const bool finished = p.total_items ? p.done_items >= p.total_items : p.done >= p.total;
    if (finished) active_ = false;
    // Everything came from the cache: nothing to show as done by this work.
    if (p.total_items && p.total_items == work_.base_items) return;

    auto& samples = work_.samples;
    const std::uint64_t bytes = p.done > work_.base_bytes ? p.done - work_.base_bytes : 0;
    // Transfers report many times a second: samples closer than this replace the newest, so that
    // the window holds a few dozen of them however often progress comes.
    if (samples.size() > 1 && now - samples[samples.size() - 2].first < kSampleEvery)
        samples.back() = {now, bytes};
    else
        samples.emplace_back(now, bytes);
    while (samples.size() > 2 && now - samples[1].first >= o_.window) samples.pop_front();
    if (p.done > work_.last_done) work_.last_moved = now;
    work_.last_done = p.done;

    const bool first = mode_ == Mode::terminal && !drawn_ && samples.size() == 1;
    const auto every = mode_ == Mode::terminal ? o_.redraw : o_.log_every;
    if (!finished && !first && now - last_shown_ < every) return;
    // A log gets a closing line only for work it saw lines of: short work leaves it clean.
    if (finished && mode_ == Mode::log && !work_.logged) return;
    work_.logged = true;
    last_shown_ = now;
    draw(status(p, now, finished), finished);
}

}  // namespace airgap::cli
