#include "repo/apply/abandon.hpp"

#include <algorithm>
#include <optional>
#include <system_error>

#include "repo/apply/bundle_verify.hpp"
#include "repo/apply/held_repos.hpp"
#include "repo/apply/interrupted_child.hpp"
#include "repo/apply/repo_originals_private.hpp"
#include "repo/apply/rpmdb_duplicates_private.hpp"
#include "repo/apply/run_history_private.hpp"
#include "repo/apply/step_data_private.hpp"
#include "repo/apply/step_table_private.hpp"
#include "repo/apply/yum_repos.hpp"
#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "repo/state/journal.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

bool has_step(const Journal& j, StepName name) {
    const auto& steps = j.steps();
    return std::any_of(steps.begin(), steps.end(), [&](const JournalStep& s) { return s.name == to_string(name); });
}

// The step a journal entry stands for, if it is one of `names`.
bool is_one_of(const JournalStep& s, std::initializer_list<StepName> names) {
    auto name = step_name_from_string(s.name);
    return name && std::find(names.begin(), names.end(), *name) != names.end();
}

// The one line that says why dropping this run now is worse than finishing it, if it is.
std::optional<std::string> unsafe_to_abandon(const Journal& j, const fs::path& root) {
    const JournalStep& at = j.steps()[*j.first_unfinished_step()];
    const std::string again = "run `ovirt-applier " + j.command() + "` with the same bundle again to finish it";
    if (is_one_of(at, {StepName::engine_setup}) && at.status == StepStatus::running)
        return "step engine-setup was cut short: engine-setup may still be at work, or have left the engine half "
               "upgraded; " +
               again + " (engine-setup then completes or rolls back)";
    if (!is_one_of(at, {StepName::update_setup, StepName::update}) || at.status == StepStatus::pending)
        return std::nullopt;
    auto twice = older_duplicates(root);
    bool yum_unfinished = Target(root).is_this_system() && !unfinished_yum_transactions(root).empty();
    if (twice.empty() && !yum_unfinished) return std::nullopt;
    std::string what = twice.empty() ? "yum's transaction record is unfinished" : "packages installed twice:";
    for (const auto& p : twice) what += " " + p;
    return "step " + at.name + " was cut short in the middle of a package transaction (" + what +
           "): abandoning would leave the rpm database half updated; " + again;
}

// The upstream repo files the run disabled, back as they were.
void put_back_disabled_repos(const Journal& j, const fs::path& state_dir,
                             const std::function<void(const std::string&)>& say) {
    std::vector<RepoFileChange> changes;
    if (has_step(j, StepName::repos)) {
        auto repos = j.step(std::string(to_string(StepName::repos))).data.get<ReposData>();
        if (repos.active) changes = repos.changes;
    }
    // The copies beside the journal are the same originals; they also cover a journal that
    // lost its record.
    if (changes.empty()) changes = saved_original_repos(state_dir);
    auto left = restore_repo_changes(changes);
    for (const auto& f : left) say("left " + f.string() + " as a package update rewrote it");
    for (const auto& c : changes)
        if (std::find(left.begin(), left.end(), c.file) == left.end()) say("put back " + c.file.string());
    forget_original_repos(state_dir);
}

void take_bundle_off(const Journal& j, const fs::path& root, const fs::path& state_dir,
                     const std::function<void(const std::string&)>& say) {
    const std::string& id = j.bundle().id;
    // The id names what is removed: only a bundle id's shape is taken from the journal (a
    // `hosts` rollout's journal names a cluster and has nothing staged).
    if (!is_bundle_id(id)) return;
    if (fs::exists(bundle_repofile(root, id))) {
        remove_bundle_repofile(root, id);
        say("removed " + bundle_repofile(root, id).string());
    }
    // On a host the upstream repos held for this bundle go back too, as `host --unstage` gives them.
    HeldRepos held = load_held_repos(state_dir);
    if (held.bundle == id && !held.changes.empty()) {
        for (const auto& f : release_held_repos(state_dir))
            say("left " + f.string() + " as a package update rewrote it");
        for (const auto& c : held.changes) say("gave back " + c.file.string());
    }
    StagedBundle staged{staged_dir_for(state_dir / "staged", id)};
    if (fs::exists(staged.dir)) {
        unstage_bundle(staged);
        say("removed the staged copy " + staged.dir.string());
    }
}

bool changed_packages(const Journal& j) {
    for (const auto& s : j.steps())
        if (is_one_of(s, {StepName::update_setup, StepName::update, StepName::engine_setup}) &&
            s.status != StepStatus::pending && s.data.get<SkippedData>().skipped.empty())
            return true;
    return false;
}

}  // namespace

void abandon_run(const fs::path& root, const fs::path& state_dir, const std::function<void(const std::string&)>& say) {
    std::error_code ec;
    if (!fs::is_directory(state_dir, ec)) {
        say("no run recorded in " + state_dir.string() + ": nothing to abandon");
        return;
    }
    FileLock lock(Journal::lock_file(state_dir));  // refuses while a run is at work, naming its pid
    std::optional<FileLock> system_lock;
    fs::path system_lock_file = Target(root).path("/run/ovirt-airgap.lock");
    if (fs::is_directory(system_lock_file.parent_path(), ec)) system_lock.emplace(system_lock_file);

    auto journal = Journal::load(state_dir);
    if (!journal || journal->complete()) {
        auto saved = saved_original_repos(state_dir);
        if (!saved.empty()) {
            say("an earlier run without a journal left repo files disabled; putting back the originals");
            for (const auto& f : restore_repo_changes(saved))
                say("left " + f.string() + " as a package update rewrote it");
            forget_original_repos(state_dir);
        }
        say("no unfinished run in " + state_dir.string() + ": nothing to abandon");
        return;
    }
    const Journal& j = *journal;
    // A child the killed run left at work (engine-setup) would go on changing the system.
    refuse_while_child_runs(j);
    if (auto why = unsafe_to_abandon(j, root)) throw ConfigError("cannot abandon: " + *why);

    const std::string stopped_at = j.steps()[*j.first_unfinished_step()].name;
    put_back_disabled_repos(j, state_dir, say);
    take_bundle_off(j, root, state_dir, say);
    history_run_ended(j, "abandoned");
    fs::remove(Journal::journal_file(state_dir), ec);
    if (ec) throw ConfigError("cannot remove " + Journal::journal_file(state_dir).string() + ": " + ec.message());
    say("abandoned `ovirt-applier " + j.command() + "` of bundle " + j.bundle().id + " (serial " +
        std::to_string(j.bundle().serial) + "), stopped at step " + stopped_at +
        (changed_packages(j) ? "; the packages it installed stay installed" : ""));
}

}  // namespace airgap::repo
