// The host sequence (repo/engine_sequence.hpp): its tables, the steps only a host has (the
// upstream repos held while a bundle is staged, Maintenance and activation through the Engine),
// and `host --unstage`.
#include <system_error>

#include "repo/atomic_file.hpp"
#include "repo/bundle_verify.hpp"
#include "repo/engine_sequence.hpp"
#include "repo/error.hpp"
#include "repo/held_repos.hpp"
#include "repo/journal.hpp"
#include "repo/sequence.hpp"
#include "repo/target.hpp"
#include "repo/yum_repos.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

// The upstream repos a staged host held, given back as they were.
void release_held(Sequence& s) {
    auto held = load_held_repos(s.state_dir());
    for (const auto& f : release_held_repos(s.state_dir()))
        s.reporter().message("left " + f.string() + " as a package update rewrote it");
    if (!held.changes.empty())
        s.reporter().message("gave back " + std::to_string(held.changes.size()) + " held repo files");
}

// Staged for the Engine's host upgrade: the host's upstream repos are held disabled, so that the
// Engine's yum run works offline. Updated by us: the update runs with our repos only, and rpm
// then sees theirs as they were.
StepEnd host_repos(Sequence& s) {
    s.write_repo_file();
    if (s.options().host_update) {
        release_held(s);
    } else {
        for (const auto& f : hold_repos(s.options().root, s.state_dir(), s.bundle().manifest.id))
            s.reporter().message("disabled the repos of " + f.string() + " while the bundle is staged");
    }
    return StepEnd::done;
}

HostMaintenance& require_maintenance(const Sequence& s) {
    if (!s.options().maintenance)
        throw ConfigError("this run has no --engine-url: run the same command with the Engine's connection");
    return *s.options().maintenance;
}

StepEnd maintenance(Sequence& s) {
    require_maintenance(s).deactivate(s.host_name());
    return StepEnd::done;
}

StepEnd activate(Sequence& s) {
    require_maintenance(s).activate(s.host_name());
    return StepEnd::done;
}

// Every step a host can have, in order; host_table() keeps those of one command line.
const StepTable<Sequence>& all_host_steps() {
    using N = StepName;
    using S = Sequence;
    // name, run, reload, changes nothing, stop before
    static const StepTable<Sequence> table{
        shared_step(N::verify),
        shared_step(N::stage),
        shared_step(N::preflight),
        {N::repos, [](S& s, bool) { return host_repos(s); }, [](S& s) { s.reload_repos(); }, false, nullptr},
        {N::maintenance, [](S& s, bool) { return maintenance(s); }, nullptr, false, nullptr},
        shared_step(N::update),
        shared_step(N::kernel_check),
        shared_step(N::unstage),
        // Appendix C: a host updated to a new kernel is activated only after its reboot.
        {N::activate, [](S& s, bool) { return activate(s); }, nullptr, false, [](S& s) { return s.stop_for_reboot(); }},
    };
    return table;
}

// Without --update: verify, stage, repos. With it also preflight, update, kernel-check, unstage;
// with the Engine also maintenance before the update and activate last.
StepTable<Sequence> host_table(bool update, bool engine) {
    StepTable<Sequence> table;
    for (const auto& row : all_host_steps()) {
        bool wanted = row.name == StepName::verify || row.name == StepName::stage || row.name == StepName::repos;
        if (row.name == StepName::maintenance || row.name == StepName::activate)
            wanted = update && engine;
        else if (!wanted)
            wanted = update;
        if (wanted) table.push_back(row);
    }
    return table;
}

}  // namespace

std::vector<std::string> host_steps(bool update, bool engine) { return step_names(host_table(update, engine)); }

void run_host(const ApplyOptions& options, ApplyReporter& reporter) {
    if (options.host_in_maintenance && !options.host_update)
        throw ConfigError("--host-in-maintenance goes with --update");
    if (options.maintenance && !options.host_update)
        throw ConfigError(
            "--engine-url is for --update (maintenance, update, activation); without --update the "
            "Engine's host upgrade manager updates the host");
    Sequence s("host", host_table(options.host_update, options.maintenance != nullptr), options, reporter);
    // Without --update the bundle stays staged for the Engine's host upgrade manager: it is not
    // applied yet, so its serial is not recorded.
    s.record = options.host_update;
    s.run();
}

void unstage_host(const ApplyOptions& options, ApplyReporter& reporter) {
    const fs::path state_dir = Target(options.root, options.state_dir).state_dir();
    std::error_code ec;
    if (!fs::is_directory(state_dir, ec)) {
        reporter.message("nothing is staged (no state dir " + state_dir.string() + ")");
        return;
    }
    FileLock lock(Journal::lock_file(state_dir));
    // An unfinished run resumes from its staged bundle: taking it away under it loses the run.
    if (auto j = Journal::load(state_dir); j && !j->complete())
        throw ConfigError("a run of bundle " + j->bundle().id + " (" + j->command() +
                          ") is not finished: run it again to the end first");
    for (const auto& id : earlier_bundle_repofiles(options.root, "")) {
        remove_bundle_repofile(options.root, id);
        reporter.message("removed the repo file of bundle " + id);
    }
    for (const auto& id : unstage_earlier(state_dir / "staged", ""))
        reporter.message("removed the staged copy of bundle " + id);
    auto held = load_held_repos(state_dir);
    for (const auto& f : release_held_repos(state_dir))
        reporter.message("left " + f.string() + " as a package update rewrote it");
    for (const auto& c : held.changes) reporter.message("gave back " + c.file.string());
    reporter.message("unstaged");
}

}  // namespace airgap::repo
