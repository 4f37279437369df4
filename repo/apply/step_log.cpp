#include "repo/apply/step_log.hpp"

#include <chrono>
#include <fstream>
#include <system_error>

#include "repo/base/rfc3339.hpp"
#include "repo/state/journal.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

std::string format_step_event(const StepEvent& e) {
    std::string line = e.time + " bundle " + e.bundle_id + " (serial " + std::to_string(e.serial) + ") " + e.command +
                       ": step " + e.step + ": " + e.status;
    if (!e.detail.empty()) line += ": " + e.detail;
    // One event, one line: a multi-line error would break the log's shape.
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    return line;
}

fs::path step_log_file(const fs::path& state_dir) { return state_dir / "logs" / "steps.log"; }

void note_step(StepSink* sink, const Journal& journal, const std::string& step, const std::string& status,
               const std::string& detail) {
    StepEvent e{format_rfc3339(std::chrono::system_clock::now()),
                journal.command(),
                journal.bundle().id,
                journal.bundle().serial,
                step,
                status,
                detail};
    std::error_code ec;
    fs::path file = step_log_file(journal.state_dir());
    fs::create_directories(file.parent_path(), ec);
    // Appended, not rewritten: the log of every run stays, as yum.log does.
    std::ofstream out(file, std::ios::app);
    out << format_step_event(e) << "\n";
    if (sink) sink->step(e);
}

}  // namespace airgap::repo
