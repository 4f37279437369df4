#include "repo/apply/run_history_private.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>

#include "repo/apply/step_data_private.hpp"
#include "repo/apply/step_table_private.hpp"
#include "repo/base/error.hpp"
#include "repo/base/rfc3339.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/versioned_json.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace airgap::repo {

namespace {

constexpr int kHistoryVersion = 1;

std::string now() { return format_rfc3339(std::chrono::system_clock::now()); }

RunRecord record_from_json(const json& r) {
    RunRecord run;
    run.id = r.at("id").get<std::uint64_t>();
    run.command = r.at("command").get<std::string>();
    run.bundle = journal_bundle_from_json(r.at("bundle"));
    run.journal_created = string_or_empty(r, "journal_created");
    run.started = string_or_empty(r, "started");
    run.ended = string_or_empty(r, "ended");
    run.result = r.at("result").get<std::string>();
    run.step = string_or_empty(r, "step");
    run.error = string_or_empty(r, "error");
    run.attempts = r.value("attempts", 1u);
    run.kernel_checked = r.value("kernel_checked", false);
    if (auto it = r.find("reboot"); it != r.end() && it->is_object())
        run.reboot = RunReboot{string_or_empty(*it, "installed"), string_or_empty(*it, "running")};
    return run;
}

void save_history(const fs::path& state_dir, const std::vector<RunRecord>& runs) {
    json j = {{"history_version", kHistoryVersion}, {"runs", json::array()}};
    for (const auto& r : runs) j["runs"].push_back(run_record_json(r));
    write_file_atomic(history_file(state_dir), j.dump(2, ' ', false, json::error_handler_t::replace) + "\n", 0600);
}

// The entry of the journal's run: same command, bundle and journal, and not ended for good (a
// new journal can be created in the same second as the one before it ended).
bool same_run(const RunRecord& r, const Journal& j) {
    bool open = r.result != "done" && r.result != "abandoned" && r.result != "refused";
    return open && r.command == j.command() && r.bundle.id == j.bundle().id && r.journal_created == j.created();
}

RunRecord& entry_for(std::vector<RunRecord>& runs, const Journal& j) {
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        if (same_run(*it, j)) return *it;
    RunRecord r;
    r.id = runs.empty() ? 1 : runs.back().id + 1;
    r.command = j.command();
    r.bundle = j.bundle();
    r.journal_created = j.created();
    r.started = j.created().empty() ? now() : j.created();
    r.attempts = 0;
    runs.push_back(r);
    return runs.back();
}

// What the journal says about the run's end: the step it stopped at, the error, the reboot.
void fill_from_journal(RunRecord& r, const Journal& j) {
    r.step.clear();
    r.error.clear();
    if (auto next = j.first_unfinished_step()) {
        const JournalStep& s = j.steps()[*next];
        r.step = s.name;
        r.error = s.error;
    }
    r.reboot.reset();
    r.kernel_checked = false;
    for (const auto& s : j.steps()) {
        if (s.name != to_string(StepName::kernel_check) || s.status != StepStatus::done) continue;
        r.kernel_checked = true;
        auto kernel = s.data.get<KernelCheckData>();
        if (kernel.reboot_needed) r.reboot = RunReboot{kernel.installed, kernel.running};
    }
}

// The result of a run that ended without finish(): what its journal shows.
std::string result_from_journal(const Journal& j) {
    std::error_code ec;
    if (!fs::exists(Journal::journal_file(j.state_dir()), ec)) return "refused";
    if (j.complete()) return "done";
    const JournalStep& s = j.steps()[*j.first_unfinished_step()];
    if (s.status == StepStatus::failed) return s.error.rfind("interrupted", 0) == 0 ? "interrupted" : "failed";
    if (s.status == StepStatus::pending && s.name == to_string(StepName::activate)) return "waiting-for-reboot";
    return "failed";
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

}  // namespace

fs::path history_file(const fs::path& state_dir) { return state_dir / "history.json"; }

std::vector<RunRecord> load_history(const fs::path& state_dir) {
    const fs::path file = history_file(state_dir);
    // Nothing else depends on the history: whatever is wrong with it, moving it aside is the
    // one advice, and its lines need not say what is wrong.
    VersionedJsonFile format{"the history", "history_version", kHistoryVersion,
                             "move it aside (the history starts again; nothing else depends on it)"};
    format.names_the_damage = false;
    auto j = read_versioned_json(file, format);
    if (!j) return {};
    std::vector<RunRecord> runs;
    try {
        for (const json& r : j->at("runs")) runs.push_back(record_from_json(r));
    } catch (const json::exception&) {
        throw damaged_versioned_json(file, format, {});
    }
    return runs;
}

void history_run_started(const Journal& journal) {
    auto runs = load_history(journal.state_dir());
    RunRecord& r = entry_for(runs, journal);
    r.attempts += 1;
    r.result = "running";
    r.ended.clear();
    r.step.clear();
    r.error.clear();
    save_history(journal.state_dir(), runs);
}

void history_run_ended(const Journal& journal, const std::string& result) {
    auto runs = load_history(journal.state_dir());
    RunRecord& r = entry_for(runs, journal);
    if (r.attempts == 0) r.attempts = 1;
    fill_from_journal(r, journal);
    r.result = result;
    r.ended = now();
    save_history(journal.state_dir(), runs);
}

RunRecorder::RunRecorder(const Journal& journal, std::function<void(const std::string&)> warn)
    : journal_(journal), warn_(std::move(warn)) {
    try {
        history_run_started(journal_);
    } catch (const std::exception& e) {
        warn_("could not record the run in the history: " + describe(e));
    }
}

RunRecorder::~RunRecorder() {
    if (finished_) return;
    try {
        history_run_ended(journal_, result_from_journal(journal_));
    } catch (const std::exception& e) {
        try {
            warn_("could not record the run's end in the history: " + describe(e));
        } catch (...) {
        }
    }
}

void RunRecorder::finish(const std::string& result) {
    finished_ = true;
    try {
        history_run_ended(journal_, result);
    } catch (const std::exception& e) {
        warn_("could not record the run's end in the history: " + describe(e));
    }
}

std::optional<RunRecord> pending_reboot(const std::vector<RunRecord>& history,
                                        const std::optional<std::string>& running_now) {
    // The newest run that checked the kernel decides: a later update may have needed none.
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
        if (!it->kernel_checked) continue;
        if (!it->reboot) return std::nullopt;
        std::string running = running_now.value_or(it->reboot->running);
        if (running == it->reboot->installed) return std::nullopt;
        RunRecord pending = *it;
        pending.reboot->running = running;
        return pending;
    }
    return std::nullopt;
}

std::optional<std::string> already_applied(const std::vector<AppliedRecord>& applied, const std::string& bundle_id,
                                           std::uint64_t serial, const std::string& manifest_sha256) {
    for (const auto& a : applied) {
        if (a.bundle_id != bundle_id || a.serial != serial || a.manifest_sha256.empty()) continue;
        if (a.manifest_sha256 != manifest_sha256) continue;
        return "bundle " + bundle_id + " (serial " + std::to_string(serial) + ") was applied by `ovirt-applier " +
               a.command + "` on " + a.applied + ": already applied, nothing to do";
    }
    return std::nullopt;
}

json run_record_json(const RunRecord& r) {
    json j = {{"id", r.id},
              {"command", r.command},
              {"bundle", to_json(r.bundle)},
              {"journal_created", r.journal_created},
              {"started", r.started},
              {"ended", r.ended.empty() ? json(nullptr) : json(r.ended)},
              {"result", r.result},
              {"step", r.step.empty() ? json(nullptr) : json(r.step)},
              {"error", r.error.empty() ? json(nullptr) : json(r.error)},
              {"attempts", r.attempts},
              {"kernel_checked", r.kernel_checked},
              {"reboot", nullptr}};
    if (r.reboot) j["reboot"] = {{"installed", r.reboot->installed}, {"running", r.reboot->running}};
    return j;
}

std::vector<std::string> render_history(const std::vector<RunRecord>& history, std::size_t newest) {
    std::vector<std::string> out;
    if (history.empty()) return out;
    out.emplace_back("history (newest first):");
    out.push_back("  " + pad("ID", 5) + pad("command", 9) + pad("bundle", 38) + pad("serial", 12) + pad("started", 22) +
                  pad("ended", 22) + "result");
    std::size_t shown = 0;
    for (auto it = history.rbegin(); it != history.rend() && shown < newest; ++it, ++shown) {
        std::string result = it->result;
        if (!it->step.empty() && result != "done") result += " at " + it->step;
        if (it->attempts > 1) result += " (" + std::to_string(it->attempts) + " attempts)";
        if (it->reboot) result += ", reboot needed for kernel " + it->reboot->installed;
        out.push_back("  " + pad(std::to_string(it->id), 5) + pad(it->command, 9) + pad(it->bundle.id, 38) +
                      pad(std::to_string(it->bundle.serial), 12) + pad(it->started, 22) +
                      pad(it->ended.empty() ? "-" : it->ended, 22) + result);
    }
    if (history.size() > shown)
        out.push_back("  (" + std::to_string(history.size() - shown) + " older runs in history.json)");
    return out;
}

}  // namespace airgap::repo
