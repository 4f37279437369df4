#pragma once
// The applier's journal (docs/journal.md): which bundle, which
// command, and each step's status, written atomically before and after every step so that
// a re-run resumes at the first step not done, also after a kill -9.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace airgap::repo {

enum class StepStatus { pending, running, done, failed };

/// "pending", "running", "done", "failed" (as written in the journal).
std::string_view to_string(StepStatus status);

struct JournalStep {
    std::string name;
    StepStatus status = StepStatus::pending;
    std::string started;                             // RFC 3339 UTC of the last begin_step, empty if never begun
    std::string finished;                            // RFC 3339 UTC of finish_step/fail_step, empty otherwise
    std::string error;                               // fail_step's message, empty otherwise
    nlohmann::json data = nlohmann::json::object();  // the step's own state (e.g. .repo files it disabled)
};

/// The bundle a journal belongs to.
struct JournalBundle {
    std::string id;  // bundle.json's id
    std::uint64_t serial = 0;
    std::string path;  // BUNDLE as given on the command line (informational)
};

/// The bundle as the journal and the run history store it: {"id", "serial", "path"}.
nlohmann::json to_json(const JournalBundle& bundle);
/// The same read back; nlohmann's exceptions when id or serial is missing or of another type.
JournalBundle journal_bundle_from_json(const nlohmann::json& j);

/// applied.json: the last bundle fully applied on this machine (anti-rollback).
struct AppliedRecord {
    std::string bundle_id;
    std::uint64_t serial = 0;
    std::string command;               // "engine", "host"
    std::string applied;               // RFC 3339 UTC
    std::string manifest_sha256 = {};  // of the signed bundle.json's bytes; empty in older records
};

/// The journal of one run of one command, in STATE_DIR/journal.json (mode 0600). Every
/// mutating call writes the whole file atomically before it returns. Not thread-safe; the
/// writer holds Journal::lock_file(state_dir) with a FileLock.
class Journal {
public:
    static constexpr int kStateVersion = 1;

    /// "/var/lib/ovirt-airgap".
    static std::filesystem::path default_state_dir();
    /// STATE_DIR/journal.json, STATE_DIR/applier.lock, STATE_DIR/applied.json.
    static std::filesystem::path journal_file(const std::filesystem::path& state_dir);
    static std::filesystem::path lock_file(const std::filesystem::path& state_dir);
    static std::filesystem::path applied_file(const std::filesystem::path& state_dir);

    /// Reads the journal as it is (for `status`); nullopt when there is none. Throws ConfigError
    /// for a damaged file or an unknown state_version, saying what the user can do.
    static std::optional<Journal> load(const std::filesystem::path& state_dir);

    /// Resumes or starts a run; the caller holds the lock. Creates `state_dir` if needed and
    /// removes temp files a killed writer left. An unfinished journal of the same bundle id
    /// and command is resumed (resumed() is true; a step left "running" by a kill counts as
    /// not done); a complete one, or none, is replaced by a fresh journal with every step
    /// pending. An unfinished journal of another bundle or command, or with other steps,
    /// throws ConfigError naming it and what to do.
    static Journal open(const std::filesystem::path& state_dir, const std::string& command, const JournalBundle& bundle,
                        const std::vector<std::string>& steps);

    const std::filesystem::path& state_dir() const noexcept { return state_dir_; }
    const std::string& command() const noexcept { return command_; }
    const JournalBundle& bundle() const noexcept { return bundle_; }
    const std::string& created() const noexcept { return created_; }
    const std::string& updated() const noexcept { return updated_; }
    const std::vector<JournalStep>& steps() const noexcept { return steps_; }
    /// True when open() picked up an unfinished run.
    bool resumed() const noexcept { return resumed_; }

    /// Index of the first step that is not done (pending, running or failed); nullopt when
    /// every step is done.
    std::optional<std::size_t> first_unfinished_step() const;
    bool complete() const { return !first_unfinished_step(); }
    /// The step called `name`; std::out_of_range when there is none (a bug).
    const JournalStep& step(const std::string& name) const;

    /// running + started now (clears a previous error); written before returning.
    void begin_step(const std::string& name);
    /// done + finished now; written before returning. Also valid on a pending step (skipped work).
    void finish_step(const std::string& name);
    /// failed + finished now + `error`; written before returning.
    void fail_step(const std::string& name, const std::string& error);
    /// Replaces the step's data and writes it: call BEFORE changing what the data restores.
    void set_step_data(const std::string& name, nlohmann::json data);

    /// Writes applied.json for this journal's bundle (at the end of a successful run), with the
    /// SHA-256 of its signed bundle.json when given ("already applied" compares it).
    void record_applied(const std::string& manifest_sha256 = {}) const;

    /// Plain text, one line per step; a "running" step shows as interrupted unless
    /// `running_pid` (the lock holder) says an applier is at work on it.
    std::string summary(std::optional<pid_t> running_pid = std::nullopt) const;

private:
    Journal() = default;
    JournalStep& mutable_step(const std::string& name);
    void save();

    std::filesystem::path state_dir_;
    std::string command_;
    JournalBundle bundle_;
    std::string created_;
    std::string updated_;
    std::vector<JournalStep> steps_;
    bool resumed_ = false;
};

/// applied.json, or nullopt when nothing was applied yet. Throws ConfigError when damaged.
std::optional<AppliedRecord> read_applied(const std::filesystem::path& state_dir);
/// Writes applied.json atomically.
void write_applied(const std::filesystem::path& state_dir, const AppliedRecord& record);
/// read_applied(state_dir)->serial, for check_serial().
std::optional<std::uint64_t> last_applied_serial(const std::filesystem::path& state_dir);

/// What `ovirt-applier status` prints: the journal's summary (with the lock holder, if any)
/// and the last applied bundle. Throws like Journal::load.
std::string render_status(const std::filesystem::path& state_dir);

}  // namespace airgap::repo
