#include "bundler/build_progress.hpp"

#include <ostream>
#include <sstream>

#include "bundler/report.hpp"
#include "repo/interrupt.hpp"

namespace airgap::bundler {

namespace {

// The rate is measured over this much of the recent past: long enough to smooth a burst, short
// enough that a mirror slowing down shows at once.
constexpr auto kRateWindow = std::chrono::seconds(5);

}  // namespace

BuildProgress::BuildProgress(std::ostream& err, bool tty, std::function<Clock::time_point()> now)
    : err_(err), tty_(tty), now_(std::move(now)) {}

void BuildProgress::message(const std::string& line) {
    end_line();
    err_ << line << "\n";
}

double BuildProgress::current_rate() const {
    if (samples_.size() < 2) return 0;
    double secs = std::chrono::duration<double>(samples_.back().first - samples_.front().first).count();
    if (secs < 0.5) return 0;
    return static_cast<double>(samples_.back().second - samples_.front().second) / secs;
}

bool BuildProgress::download(std::uint64_t done_bytes, std::uint64_t total_bytes, std::size_t done_files,
                             std::size_t total_files) {
    auto now = now_();
    if (!started_) {
        // The first report comes before any transfer: what is done then was in the cache.
        started_ = true;
        cached_bytes_ = done_bytes;
        cached_files_ = done_files;
        if (cached_files_)
            message(std::to_string(cached_files_) + " of " + std::to_string(total_files) + " packages (" +
                    human_size(cached_bytes_) + ") taken from the cache");
    }
    const std::size_t files = done_files - cached_files_, of_files = total_files - cached_files_;
    const std::uint64_t bytes = done_bytes - cached_bytes_, of_bytes = total_bytes - cached_bytes_;
    if (of_files == 0) return true;
    samples_.emplace_back(now, bytes);
    while (samples_.size() > 2 && now - samples_[1].first >= kRateWindow) samples_.pop_front();
    const bool finished = files == of_files;
    if (tty_) {
        if (!finished && drawn_ && now - last_ < std::chrono::milliseconds(200)) return true;
        last_ = now;
        double rate = current_rate();
        std::ostringstream line;
        line << "downloading " << files << "/" << of_files << " packages, " << human_size(bytes) << " of "
             << human_size(of_bytes);
        if (rate > 0) {
            line << ", " << human_size(static_cast<std::uint64_t>(rate)) << "/s";
            if (of_bytes > bytes)
                line << ", " << static_cast<long>(static_cast<double>(of_bytes - bytes) / rate) << " s left";
        }
        err_ << "\r" << line.str() << "\033[K" << std::flush;
        drawn_ = true;
        if (finished) end_line();
    } else if (files != logged_files_ && (files > 0 || finished) &&
               (finished || now - last_ >= std::chrono::seconds(5))) {
        last_ = now;
        logged_files_ = files;
        err_ << "downloaded " << files << "/" << of_files << " packages (" << human_size(bytes) << ")";
        if (double rate = current_rate(); rate > 0 && !finished)
            err_ << ", " << human_size(static_cast<std::uint64_t>(rate)) << "/s";
        err_ << "\n";
    }
    return true;
}

bool BuildProgress::cancelled() { return repo::interrupted(); }

bool BuildProgress::pack(std::uint64_t done, std::uint64_t total) {
    if (!tty_) return true;
    auto now = now_();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return true;
    last_ = now;
    err_ << "\rpacking " << human_size(done) << " of " << human_size(total) << "\033[K" << std::flush;
    drawn_ = true;
    if (done >= total) end_line();
    return true;
}

void BuildProgress::end_line() {
    if (drawn_) err_ << "\n";
    drawn_ = false;
}

}  // namespace airgap::bundler
