// The host sequence (repo/apply/engine_sequence.hpp): its tables, the steps only a host has (the
// upstream repos held while a bundle is staged, Maintenance and activation through the Engine),
// and `host --unstage`.
#include <system_error>

#include "repo/apply/bundle_verify.hpp"
#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/held_repos.hpp"
#include "repo/apply/sequence_private.hpp"
#include "repo/apply/yum_repos.hpp"
#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/solv/inventory.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/journal.hpp"

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
StepEnd host_repos(Sequence& s, bool /*again*/) {
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

StepEnd maintenance(Sequence& s, bool /*again*/) {
    require_maintenance(s).deactivate(s.host_name());
    return StepEnd::done;
}

StepEnd activate(Sequence& s, bool /*again*/) {
    require_maintenance(s).activate(s.host_name());
    return StepEnd::done;
}

bool stop_for_reboot(Sequence& s) { return s.stop_for_reboot(); }

// On an oVirt Node the update's new layer replaces the kernel check (the new kernel is the new
// layer's), and the run stops after unstage until the Node has booted into that layer.
void add_node_steps(StepTable<Sequence>& table) {
    using N = StepName;
    using S = Sequence;
    table.push_back(shared_step(N::update));
    table.push_back({N::new_layer, [](S& s, bool) { return s.new_layer(); }, [](S& s) { s.reload_new_layer(); }});
    table.push_back(shared_step(N::unstage));
    table.push_back({N::running_layer, [](S& s, bool) { return s.running_layer(); }, nullptr, false,
                     [](S& s) { return s.stop_for_new_layer(); }});
}

// Without --update: verify, stage, repos (the bundle staged for the Engine's host upgrade). With
// it also preflight, update, kernel-check, unstage (on a Node: update, new-layer, unstage,
// running-layer); with the Engine also maintenance before the update and activate last.
StepTable<Sequence> host_table(bool update, bool engine, bool node) {
    using N = StepName;
    StepTable<Sequence> table{shared_step(N::verify), shared_step(N::stage)};
    if (update) table.push_back(shared_step(N::preflight));
    table.push_back(repos_step(host_repos));
    if (!update) return table;
    if (engine) table.push_back({N::maintenance, maintenance});
    if (node)
        add_node_steps(table);
    else
        for (N step : {N::update, N::kernel_check, N::unstage}) table.push_back(shared_step(step));
    // Appendix C: a host updated to a new kernel is activated only after its reboot.
    if (engine) table.push_back({N::activate, activate, nullptr, false, stop_for_reboot});
    return table;
}

}  // namespace

std::vector<std::string> host_steps(bool update, bool engine, bool node) {
    return step_names(host_table(update, engine, node));
}

void run_host(const ApplyOptions& options, Reporter& reporter) {
    if (options.host_in_maintenance && !options.host_update)
        throw ConfigError("--host-in-maintenance goes with --update");
    if (options.maintenance && !options.host_update)
        throw ConfigError(
            "--engine-url is for --update (maintenance, update, activation); without --update the "
            "Engine's host upgrade manager updates the host");
    const bool node = is_ovirt_node(Target(options.root).root());
    Sequence s("host", host_table(options.host_update, options.maintenance != nullptr, node), options, reporter);
    // Without --update the bundle stays staged for the Engine's host upgrade manager: it is not
    // applied yet, so its serial is not recorded.
    s.record = options.host_update;
    s.run();
}

void unstage_host(const ApplyOptions& options, Reporter& reporter) {
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
