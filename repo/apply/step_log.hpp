#pragma once
// Where each step of a run is told, besides the terminal: every start, end and failure of a
// step, with its time and the bundle it belongs to. The library writes STATE/logs/steps.log
// itself and passes each event to a StepSink the executable provides (ovirt-applier's sends
// them to syslog); the library never opens syslog itself.
#include <cstdint>
#include <filesystem>
#include <string>

namespace airgap::repo {

class Journal;

/// One step's start ("running"), end ("done") or failure ("failed", with its reason).
struct StepEvent {
    std::string time;  // RFC 3339 UTC
    std::string command;
    std::string bundle_id;
    std::uint64_t serial = 0;
    std::string step;
    std::string status;  // "running", "done", "failed"
    std::string detail;  // the failure's reason; empty otherwise
};

/// Receives every StepEvent of a run, in order. Must not throw.
class StepSink {
public:
    virtual ~StepSink() = default;
    virtual void step(const StepEvent& event) noexcept = 0;
};

/// "2026-12-02T10:00:00Z bundle 3f0c... (serial 1000) engine: step update: failed: REASON".
std::string format_step_event(const StepEvent& event);

/// STATE/logs/steps.log.
std::filesystem::path step_log_file(const std::filesystem::path& state_dir);

/// Tells the step event of `journal`'s run to steps.log (appended, one line) and to `sink` if
/// set. A log that cannot be written does not stop the run.
void note_step(StepSink* sink, const Journal& journal, const std::string& step, const std::string& status,
               const std::string& detail = {});

}  // namespace airgap::repo
