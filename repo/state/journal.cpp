#include "repo/state/journal.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/base/text.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "repo/state/versioned_json.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace airgap::repo {

namespace {

std::string now() { return format_rfc3339(std::chrono::system_clock::now()); }

// nullopt when the file does not exist; ConfigError when it cannot be read.
std::optional<std::string> read_text(const fs::path& file) {
    auto content = read_file(file);
    if (content) return content;
    std::error_code ec;
    if (!fs::exists(file, ec) && !ec) return std::nullopt;
    throw ConfigError("cannot read " + file.string());
}

StepStatus parse_status(const std::string& s) {
    if (s == "pending") return StepStatus::pending;
    if (s == "running") return StepStatus::running;
    if (s == "done") return StepStatus::done;
    if (s == "failed") return StepStatus::failed;
    throw std::invalid_argument("unknown step status \"" + s + "\"");
}

// "[json.exception.out_of_range.403] key 'x' not found" -> "key 'x' not found".
std::string plain(const std::exception& e) {
    std::string what = e.what();
    auto pos = what.find("] ");
    return what.compare(0, 15, "[json.exception") == 0 && pos != std::string::npos ? what.substr(pos + 2) : what;
}

std::string names(const std::vector<std::string>& list) { return join(list, ", "); }

}  // namespace

json to_json(const JournalBundle& bundle) {
    return {{"id", bundle.id}, {"serial", bundle.serial}, {"path", bundle.path}};
}

JournalBundle journal_bundle_from_json(const json& j) {
    return {j.at("id").get<std::string>(), j.at("serial").get<std::uint64_t>(), string_or_empty(j, "path")};
}

std::string_view to_string(StepStatus status) {
    switch (status) {
        case StepStatus::pending:
            return "pending";
        case StepStatus::running:
            return "running";
        case StepStatus::done:
            return "done";
        case StepStatus::failed:
            return "failed";
    }
    return "unknown";
}

fs::path Journal::default_state_dir() { return Target::default_state_dir(); }
fs::path Journal::journal_file(const fs::path& state_dir) { return state_dir / "journal.json"; }
fs::path Journal::lock_file(const fs::path& state_dir) { return state_dir / "applier.lock"; }
fs::path Journal::applied_file(const fs::path& state_dir) { return state_dir / "applied.json"; }

std::optional<Journal> Journal::load(const fs::path& state_dir) {
    const fs::path file = journal_file(state_dir);
    const VersionedJsonFile format{"the journal", "state_version", kStateVersion,
                                   "move it aside to start over (the run it describes is then not resumed)",
                                   "finish the run with the ovirt-applier that wrote it, or move the file aside"};
    auto read = read_versioned_json(file, format);
    if (!read) return std::nullopt;
    const json& j = *read;
    Journal journal;
    journal.state_dir_ = state_dir;
    try {
        journal.command_ = j.at("command").get<std::string>();
        journal.bundle_ = journal_bundle_from_json(j.at("bundle"));
        journal.created_ = string_or_empty(j, "created");
        journal.updated_ = string_or_empty(j, "updated");
        if (!j.at("steps").is_array()) throw std::invalid_argument("steps is not an array");
        for (const json& s : j.at("steps")) {
            JournalStep step;
            step.name = s.at("name").get<std::string>();
            step.status = parse_status(s.at("status").get<std::string>());
            step.started = string_or_empty(s, "started");
            step.finished = string_or_empty(s, "finished");
            step.error = string_or_empty(s, "error");
            if (auto data = s.find("data"); data != s.end()) step.data = *data;
            journal.steps_.push_back(std::move(step));
        }
        if (journal.command_.empty() || journal.bundle_.id.empty())
            throw std::invalid_argument("command or bundle id is empty");
    } catch (const std::exception& e) {
        throw damaged_versioned_json(file, format, plain(e));
    }
    return journal;
}

Journal Journal::open(const fs::path& state_dir, const std::string& command, const JournalBundle& bundle,
                      const std::vector<std::string>& steps) {
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    if (ec) throw ConfigError("cannot create the state directory " + state_dir.string() + ": " + ec.message());
    remove_stale_temp_files(journal_file(state_dir));
    remove_stale_temp_files(applied_file(state_dir));

    if (auto existing = load(state_dir); existing && !existing->complete()) {
        const JournalStep& at = existing->steps_[*existing->first_unfinished_step()];
        if (existing->bundle_.id != bundle.id || existing->command_ != command)
            throw ConfigError(journal_file(state_dir).string() + " records an unfinished `ovirt-applier " +
                              existing->command_ + "` of bundle " + existing->bundle_.id + " (serial " +
                              std::to_string(existing->bundle_.serial) + ", from " + existing->bundle_.path +
                              "), stopped at step " + at.name + ": run that command with that bundle again to " +
                              "finish it, or move the journal aside to abandon it");
        std::vector<std::string> recorded;
        for (const auto& s : existing->steps_) recorded.push_back(s.name);
        if (recorded != steps)
            throw ConfigError(journal_file(state_dir).string() + " records an unfinished run with other steps (" +
                              names(recorded) + ") than this ovirt-applier's (" + names(steps) +
                              "): finish it with the ovirt-applier that wrote it, or move the journal aside");
        existing->resumed_ = true;
        if (existing->bundle_.path != bundle.path) {
            // The same bundle from another mount point or copy: remember where it is now.
            existing->bundle_.path = bundle.path;
            existing->save();
        }
        return std::move(*existing);
    }

    Journal journal;
    journal.state_dir_ = state_dir;
    journal.command_ = command;
    journal.bundle_ = bundle;
    journal.created_ = now();
    for (const auto& name : steps) {
        JournalStep step;
        step.name = name;
        journal.steps_.push_back(std::move(step));
    }
    journal.save();
    return journal;
}

std::optional<std::size_t> Journal::first_unfinished_step() const {
    for (std::size_t i = 0; i < steps_.size(); ++i)
        if (steps_[i].status != StepStatus::done) return i;
    return std::nullopt;
}

const JournalStep& Journal::step(const std::string& name) const {
    for (const auto& s : steps_)
        if (s.name == name) return s;
    throw std::out_of_range("no step \"" + name + "\" in the journal");
}

JournalStep& Journal::mutable_step(const std::string& name) { return const_cast<JournalStep&>(step(name)); }

void Journal::begin_step(const std::string& name) {
    JournalStep& s = mutable_step(name);
    s.status = StepStatus::running;
    s.started = now();
    s.finished.clear();
    s.error.clear();
    save();
}

void Journal::finish_step(const std::string& name) {
    JournalStep& s = mutable_step(name);
    s.status = StepStatus::done;
    s.finished = now();
    if (s.started.empty()) s.started = s.finished;
    s.error.clear();
    save();
}

void Journal::fail_step(const std::string& name, const std::string& error) {
    JournalStep& s = mutable_step(name);
    s.status = StepStatus::failed;
    s.finished = now();
    if (s.started.empty()) s.started = s.finished;
    s.error = error;
    save();
}

void Journal::set_step_data(const std::string& name, json data) {
    mutable_step(name).data = std::move(data);
    save();
}

void Journal::save() {
    updated_ = now();
    json j = json::object();
    j["state_version"] = kStateVersion;
    j["command"] = command_;
    j["bundle"] = to_json(bundle_);
    j["created"] = created_;
    j["updated"] = updated_;
    j["steps"] = json::array();
    for (const auto& s : steps_) {
        json step = {{"name", s.name}, {"status", std::string(to_string(s.status))}};
        if (!s.started.empty()) step["started"] = s.started;
        if (!s.finished.empty()) step["finished"] = s.finished;
        if (!s.error.empty()) step["error"] = s.error;
        step["data"] = s.data;
        j["steps"].push_back(std::move(step));
    }
    // Replace invalid UTF-8 (e.g. from a command's error output) rather than fail to journal.
    write_file_atomic(journal_file(state_dir_), j.dump(2, ' ', false, json::error_handler_t::replace) + "\n", 0600);
}

void Journal::record_applied(const std::string& manifest_sha256) const {
    write_applied(state_dir_, AppliedRecord{bundle_.id, bundle_.serial, command_, now(), manifest_sha256});
}

std::string Journal::summary(std::optional<pid_t> running_pid) const {
    std::ostringstream out;
    out << "ovirt-applier " << command_ << ": bundle " << bundle_.id << " (serial " << bundle_.serial << ")";
    if (!bundle_.path.empty()) out << " from " << bundle_.path;
    out << "\nstarted " << created_ << ", last change " << updated_ << "\n";
    std::size_t width = 0;
    for (const auto& s : steps_) width = std::max(width, s.name.size());
    for (const auto& s : steps_) {
        std::string status(to_string(s.status));
        if (s.status == StepStatus::running && !running_pid) status = "interrupted";
        out << "  " << status << std::string(12 - std::min<std::size_t>(status.size(), 11), ' ') << s.name;
        std::string detail;
        if (s.status == StepStatus::done || s.status == StepStatus::failed)
            detail = s.started + " - " + s.finished;
        else if (s.status == StepStatus::running)
            detail = "since " + s.started +
                     (running_pid ? " (pid " + std::to_string(*running_pid) + ")" : " (will be re-run)");
        if (s.status == StepStatus::failed) detail += ": " + s.error;
        if (!detail.empty()) out << std::string(width - s.name.size() + 2, ' ') << detail;
        out << "\n";
    }
    if (auto next = first_unfinished_step()) {
        if (!running_pid)
            out << "next step: " << steps_[*next].name << " (run `ovirt-applier " << command_
                << "` with the same bundle again to resume)\n";
    } else {
        out << "all steps done\n";
    }
    return out.str();
}

std::optional<AppliedRecord> read_applied(const fs::path& state_dir) {
    const fs::path file = Journal::applied_file(state_dir);
    auto content = read_text(file);
    if (!content) return std::nullopt;
    try {
        json j = json::parse(*content);
        if (j.at("state_version").get<int>() != Journal::kStateVersion)
            throw std::invalid_argument("unknown state_version " + j.at("state_version").dump());
        AppliedRecord r;
        r.bundle_id = j.at("bundle_id").get<std::string>();
        // nlohmann reads -1 as 2^64-1 into an unsigned: that would refuse every bundle forever.
        if (!j.at("serial").is_number_unsigned() || j.at("serial").get<std::uint64_t>() > kMaxBundleSerial)
            throw std::invalid_argument("serial " + j.at("serial").dump() + " is not a bundle serial");
        r.serial = j.at("serial").get<std::uint64_t>();
        r.command = string_or_empty(j, "command");
        r.applied = string_or_empty(j, "applied");
        r.manifest_sha256 = string_or_empty(j, "manifest_sha256");
        return r;
    } catch (const std::exception& e) {
        throw ConfigError("cannot read " + file.string() + " (" + plain(e) +
                          "): it holds the last applied serial that protects against rollback; restore it, or "
                          "remove it to accept any serial");
    }
}

void write_applied(const fs::path& state_dir, const AppliedRecord& record) {
    json j = {{"state_version", Journal::kStateVersion},
              {"bundle_id", record.bundle_id},
              {"serial", record.serial},
              {"command", record.command},
              {"applied", record.applied}};
    if (!record.manifest_sha256.empty()) j["manifest_sha256"] = record.manifest_sha256;
    write_file_atomic(Journal::applied_file(state_dir), j.dump(2) + "\n", 0644);
}

std::optional<std::uint64_t> last_applied_serial(const fs::path& state_dir) {
    auto record = read_applied(state_dir);
    return record ? std::optional<std::uint64_t>(record->serial) : std::nullopt;
}

std::string render_status(const fs::path& state_dir) {
    std::string out;
    auto journal = Journal::load(state_dir);
    if (journal) {
        auto holder = FileLock::holder(Journal::lock_file(state_dir));
        out += journal->summary(holder ? std::optional<pid_t>(*holder) : std::nullopt);
    } else {
        out += "no run recorded in " + state_dir.string() + "\n";
    }
    if (auto applied = read_applied(state_dir))
        out += "last applied: bundle " + applied->bundle_id + " (serial " + std::to_string(applied->serial) +
               ") by `ovirt-applier " + applied->command + "` on " + applied->applied + "\n";
    else
        out += "no bundle applied yet\n";
    return out;
}

}  // namespace airgap::repo
