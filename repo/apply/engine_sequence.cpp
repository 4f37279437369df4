// The engine sequence (repo/apply/engine_sequence.hpp): its table, the steps only the engine has
// (engine-upgrade-check, update-setup, engine-setup, restore-repos), the package manager's
// command line, and the terminal renderer the applier's commands use.
#include "repo/apply/engine_sequence.hpp"

#include <algorithm>
#include <ostream>
#include <set>
#include <sstream>

#include "repo/apply/preflight_private.hpp"
#include "repo/apply/sequence_private.hpp"
#include "repo/apply/yum_repos.hpp"
#include "repo/base/error.hpp"
#include "repo/base/spawn.hpp"
#include "repo/base/target.hpp"
#include "repo/state/atomic_file.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_spaces(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream s(text);
    for (std::string w; s >> w;) out.push_back(w);
    return out;
}

// Exit 0: the setup packages have an update, engine-setup runs. Exit 1 says only that the
// setup packages have no update. An engine still below the bundle's version needs engine-setup
// all the same: engine-setup is what upgrades it, and the engine stays version-locked at its old
// version until it has run. Otherwise update-setup and engine-setup are journaled as skipped.
StepEnd upgrade_check(Sequence& s, bool /*again*/) {
    s.disable_repos();  // a resumed run disables them again
    fs::path tool = s.target().path(s.options().engine_upgrade_check);
    const std::string log = s.log_for("engine-upgrade-check").string();
    int code = Command(tool.string()).run_logged(log, s.output_to_reporter());
    if (code == 0) {
        s.set_data(StepName::engine_upgrade_check, UpgradeCheckData{0, true, {}});
        return StepEnd::done;
    }
    if (code != 1) throw StepFailed(tool.string() + " exited with " + std::to_string(code) + " (see " + log + ")");
    auto below = below_target(s.options().root, s.role_targets());
    if (!below.empty()) {
        s.reporter().message("engine-upgrade-check found no setup update, but " + joined(below, ", ") +
                             ": running update-setup and engine-setup");
        s.set_data(StepName::engine_upgrade_check, UpgradeCheckData{1, true, below});
        return StepEnd::done;
    }
    s.set_data(StepName::engine_upgrade_check, UpgradeCheckData{1, false, {}});
    s.journal().finish_step(std::string(to_string(StepName::engine_upgrade_check)));
    s.reporter().message(
        "engine-upgrade-check: no engine upgrade in the bundle; skipping update-setup and engine-setup");
    for (StepName skipped : {StepName::update_setup, StepName::engine_setup}) {
        s.set_data(skipped, SkippedData{"engine-upgrade-check found no upgrade"});
        s.journal().finish_step(std::string(to_string(skipped)));
    }
    return StepEnd::journaled;
}

StepEnd update_setup(Sequence& s, bool again) {
    s.disable_repos();
    s.package_manager(StepName::update_setup, {"update", "ovirt*setup*"}, again);
    return StepEnd::done;
}

// engine-setup runs in a process group of its own: Ctrl-C does not reach it, it finishes, and
// the run stops after it.
StepEnd engine_setup(Sequence& s, bool /*again*/) {
    s.disable_repos();
    const ApplyOptions& o = s.options();
    fs::path answers = s.state_dir() / "engine-setup-answers.conf";
    // Only what the administrator's file leaves unset, and that file last: otopi lets a
    // later file's key replace an earlier one's, so the administrator's answers hold.
    std::set<std::string> admin_keys;
    if (!o.answer_file.empty()) admin_keys = otopi_answer_file_keys(o.answer_file);
    write_file_atomic(answers, engine_setup_answers(admin_keys), 0600);
    Command command(s.target().path(o.engine_setup).string());
    command.arg("--accept-defaults").arg("--config-append=" + fs::absolute(answers).string());
    if (!o.answer_file.empty()) command.arg("--config-append=" + fs::absolute(o.answer_file).string());
    const fs::path log = s.log_for("engine-setup");
    s.reporter().message("running " + command.line() + " (not stopped by Ctrl-C: the run stops when it ends; log " +
                         log.string() + ")");
    // Journaled as the step's child: a re-run after the applier's kill refuses while it runs.
    int code = s.run_child(StepName::engine_setup, command.own_process_group(), "engine-setup", log);
    if (code != 0) throw StepFailed("engine-setup exited with " + std::to_string(code) + " (see " + log.string() + ")");
    return StepEnd::done;
}

StepEnd engine_repos(Sequence& s, bool /*again*/) {
    s.write_repo_file();
    s.disable_repos();
    return StepEnd::done;
}

StepEnd restore_repos_step(Sequence& s, bool /*again*/) {
    s.restore_repos();
    return StepEnd::done;
}

// The other repos are disabled only while engine-upgrade-check and engine-setup (which ask yum
// about enabled repos) may run, and put back before the final package update: rpm then sees
// ovirt-release43's .repo files as the administrator left them.
const StepTable<Sequence>& engine_table() {
    using N = StepName;
    static const StepTable<Sequence> table{
        shared_step(N::verify),
        shared_step(N::stage),
        shared_step(N::preflight),
        repos_step(engine_repos),
        {N::engine_upgrade_check, upgrade_check},
        {N::update_setup, update_setup},
        {N::engine_setup, engine_setup},
        {N::restore_repos, restore_repos_step},
        shared_step(N::update),
        shared_step(N::kernel_check),
        shared_step(N::unstage),
    };
    return table;
}

}  // namespace

std::vector<std::string> engine_steps() { return step_names(engine_table()); }

void require_package_manager(const ApplyOptions& options) {
    const std::string program = package_manager_argv(options, {}).front();
    if (!is_runnable(program))
        throw ConfigError("--package-manager: '" + program + "' is neither an executable file nor a command on PATH");
}

std::vector<std::string> package_manager_argv(const ApplyOptions& options, const std::vector<std::string>& args) {
    std::vector<std::string> argv = split_spaces(options.package_manager);
    if (argv.empty()) throw ConfigError("--package-manager is empty");
    argv.insert(argv.end(), {"-y", "--disablerepo=*", std::string("--enablerepo=") + kAirgapRepoPrefix + "*"});
    auto root_args = Target(options.root).package_manager_args();
    argv.insert(argv.end(), root_args.begin(), root_args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

void run_engine(const ApplyOptions& options, Reporter& reporter) {
    Sequence s("engine", engine_table(), options, reporter);
    s.run();
}

}  // namespace airgap::repo
