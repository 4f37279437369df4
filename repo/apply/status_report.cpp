#include "repo/apply/status_report.hpp"

#include "repo/apply/enrol.hpp"
#include "repo/apply/held_repos.hpp"
#include "repo/apply/interrupted_child.hpp"
#include "repo/apply/publish.hpp"
#include "repo/apply/run_history_private.hpp"
#include "repo/base/rfc3339.hpp"
#include "repo/base/target.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/journal.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace airgap::repo {

namespace {

json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// A run the history calls "running" with nobody holding the lock was killed: say so.
std::vector<RunRecord> history_as_now(const fs::path& state_dir) {
    auto history = load_history(state_dir);
    bool at_work = FileLock::holder(Journal::lock_file(state_dir)).has_value();
    for (auto& r : history)
        if (r.result == "running" && !at_work) r.result = "interrupted";
    return history;
}

std::optional<RunRecord> reboot_of(const fs::path& root, const std::vector<RunRecord>& history) {
    return pending_reboot(history, Target(root).booted_kernel());
}

json run_json(const Journal& j, std::optional<pid_t> holder) {
    json steps = json::array();
    for (const auto& s : j.steps()) {
        std::string status(to_string(s.status));
        if (s.status == StepStatus::running && !holder) status = "interrupted";
        steps.push_back({{"name", s.name},
                         {"status", status},
                         {"started", text_or_null(s.started)},
                         {"finished", text_or_null(s.finished)},
                         {"error", text_or_null(s.error)}});
    }
    auto next = j.first_unfinished_step();
    json child = nullptr;
    if (auto c = running_child(j))
        child = {{"step", c->step}, {"program", c->program}, {"pid", c->pid}, {"log", c->log}};
    return {{"command", j.command()},
            {"bundle", {{"id", j.bundle().id}, {"serial", j.bundle().serial}, {"path", j.bundle().path}}},
            {"created", j.created()},
            {"updated", j.updated()},
            {"complete", j.complete()},
            {"next_step", next ? json(j.steps()[*next].name) : json(nullptr)},
            {"running_pid", holder ? json(*holder) : json(nullptr)},
            {"running_child", child},
            {"steps", steps}};
}

}  // namespace

std::vector<std::string> status_history_lines(const fs::path& root, const fs::path& state_dir) {
    auto history = history_as_now(state_dir);
    std::vector<std::string> lines;
    if (auto r = reboot_of(root, history))
        lines.push_back("reboot pending: kernel " + r->reboot->installed + " installed by `ovirt-applier " +
                        r->command + "` of bundle " + r->bundle.id + " on " + r->ended + ", running " +
                        r->reboot->running + ": reboot into it to finish the update");
    for (auto& line : render_history(history)) lines.push_back(std::move(line));
    return lines;
}

json status_json(const fs::path& root, const fs::path& state_dir) {
    json out = {{"status_version", 1}, {"state_dir", state_dir.string()}};
    auto journal = Journal::load(state_dir);
    auto holder = FileLock::holder(Journal::lock_file(state_dir));
    out["run"] = journal ? run_json(*journal, holder) : json(nullptr);
    out["last_applied"] = nullptr;
    if (auto a = read_applied(state_dir))
        out["last_applied"] = {{"bundle_id", a->bundle_id},
                               {"serial", a->serial},
                               {"command", a->command},
                               {"applied", a->applied},
                               {"manifest_sha256", text_or_null(a->manifest_sha256)}};
    auto history = history_as_now(state_dir);
    out["reboot_pending"] = nullptr;
    if (auto r = reboot_of(root, history))
        out["reboot_pending"] = {{"kernel_installed", r->reboot->installed},
                                 {"kernel_running", r->reboot->running},
                                 {"bundle_id", r->bundle.id},
                                 {"command", r->command},
                                 {"run", r->id}};
    HeldRepos held = load_held_repos(state_dir);
    json files = json::array();
    for (const auto& c : held.changes) files.push_back(c.file.string());
    out["held_repos"] = held.changes.empty() ? json(nullptr) : json{{"bundle_id", held.bundle}, {"files", files}};
    // What the text shows beside: an engine's published bundles, a host's enrolment with them.
    out["published"] = published_json(root);
    out["enrolment"] = enrolment_json(state_dir);
    out["history"] = json::array();
    for (const auto& r : history) out["history"].push_back(run_record_json(r));
    return out;
}

json verify_json(const VerifiedBundle& v) {
    std::uint64_t bytes = 0;
    for (const auto& f : v.manifest.files) bytes += f.size;
    json out = {{"verify_version", 1},
                {"verified", true},
                {"bundle",
                 {{"id", v.manifest.id},
                  {"serial", v.manifest.serial},
                  {"created", v.manifest.created},
                  {"expires", v.manifest.expires},
                  {"roles", v.manifest.roles},
                  {"files", v.manifest.files.size()},
                  {"bytes", bytes},
                  {"packages", v.manifest.packages.size()},
                  {"manifest_sha256", v.manifest_sha256},
                  {"source", v.source.string()}}},
                {"signer",
                 {{"subject", v.signer.subject},
                  {"issuer", v.signer.issuer},
                  {"fingerprint_sha256", v.signer.fingerprint_sha256},
                  {"key", v.signer.key_description},
                  {"not_after", format_rfc3339(v.signer.not_after)}}},
                {"base", nullptr}};
    if (const auto& base = v.manifest.base_bundle) {
        std::uint64_t lent = 0;
        for (const auto& f : base->files) lent += f.size;
        out["base"] = {{"id", base->id},
                       {"serial", base->serial},
                       {"files", base->files.size()},
                       {"bytes", lent},
                       {"verified", v.base.has_value()}};
    }
    return out;
}

}  // namespace airgap::repo
