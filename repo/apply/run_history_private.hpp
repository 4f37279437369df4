#pragma once
// The history of the applier's runs on one machine, as `yum history` keeps its transactions:
// every run with its bundle, command, start and end, result and the reboot it left pending.
// One versioned JSON file, STATE/history.json, rewritten atomically at the start and the end of
// every run (docs/journal.md). A run is the life of one journal: a resumed run is the same run,
// so its entry is updated (one more attempt), not repeated.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "repo/state/journal.hpp"

namespace airgap::repo {

/// The kernel a run installed and the kernel running when it checked.
struct RunReboot {
    std::string installed;  // `uname -r` form of the newest installed kernel
    std::string running;    // the running kernel when kernel-check ran
};

/// One run in the history.
struct RunRecord {
    std::uint64_t id = 0;  // 1, 2, ...: the order the runs started in
    std::string command;   // "engine", "host"
    JournalBundle bundle;
    std::string journal_created;  // the journal's "created": which journal this entry follows
    std::string started;          // RFC 3339 UTC
    std::string ended;            // RFC 3339 UTC; empty while the run is at work
    /// "running", "done", "failed", "interrupted", "refused", "waiting-for-reboot", "abandoned".
    std::string result;
    std::string step;   // the step it failed or stopped at; empty when done
    std::string error;  // the failed step's message
    unsigned attempts = 1;
    bool kernel_checked = false;      // its kernel-check step is done
    std::optional<RunReboot> reboot;  // set when the run installed a kernel newer than the running one
};

/// STATE/history.json.
std::filesystem::path history_file(const std::filesystem::path& state_dir);

/// The runs, oldest first; empty when there is no history yet. ConfigError for a damaged file
/// or another history_version, saying what to do.
std::vector<RunRecord> load_history(const std::filesystem::path& state_dir);

/// Adds the run of `journal` (or, for a resumed journal, counts one more attempt of its entry)
/// with result "running", and writes the history atomically.
void history_run_started(const Journal& journal);

/// Records how the run of `journal` ended (see RunRecord::result); the failed or stopped step,
/// its error and the reboot are taken from the journal. Adds the entry if it is missing.
void history_run_ended(const Journal& journal, const std::string& result);

/// Keeps the history of one run of one Sequence: started when made, ended when finish() is
/// called or, if it never is, when it dies (then with the result the journal shows: refused
/// when the journal was removed as untouched, interrupted, failed, or waiting-for-reboot).
/// A history that cannot be written never fails the run: `warn` gets one line instead.
class RunRecorder {
public:
    RunRecorder(const Journal& journal, std::function<void(const std::string&)> warn);
    ~RunRecorder();
    RunRecorder(const RunRecorder&) = delete;
    RunRecorder& operator=(const RunRecorder&) = delete;
    void finish(const std::string& result);

private:
    const Journal& journal_;
    std::function<void(const std::string&)> warn_;
    bool finished_ = false;
};

/// The newest run's pending reboot, if the system still runs another kernel than the one that
/// run installed (`running_now`: Target::booted_kernel(), nullopt to trust the run's record).
std::optional<RunRecord> pending_reboot(const std::vector<RunRecord>& history,
                                        const std::optional<std::string>& running_now);

/// "already applied" when `applied` (a record of the state dir or its copy in /etc) is this
/// very bundle: the same id and the same signed bundle.json bytes. The line says so.
std::optional<std::string> already_applied(const std::vector<AppliedRecord>& applied, const std::string& bundle_id,
                                           std::uint64_t serial, const std::string& manifest_sha256);

/// A run as JSON (docs/journal.md, "history.json"), and the history as `status` prints it.
nlohmann::json run_record_json(const RunRecord& run);
std::vector<std::string> render_history(const std::vector<RunRecord>& history, std::size_t newest = 20);

}  // namespace airgap::repo
