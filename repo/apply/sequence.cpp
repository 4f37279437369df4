#include "repo/apply/sequence_private.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <stdexcept>
#include <system_error>

#include "repo/apply/interrupted_child.hpp"
#include "repo/apply/preflight_private.hpp"
#include "repo/apply/publish.hpp"
#include "repo/apply/repo_originals_private.hpp"
#include "repo/apply/role_fit_private.hpp"
#include "repo/apply/rpmdb_duplicates_private.hpp"
#include "repo/apply/run_history_private.hpp"
#include "repo/apply/step_log.hpp"
#include "repo/apply/yum_repos.hpp"
#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/base/scratch_dir.hpp"
#include "repo/solv/inventory.hpp"
#include "repo/state/atomic_file.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

std::string boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

namespace {

// Archive and hashing progress, passed on to the reporter under the step's name; a signal
// stops it whatever the reporter says.
class ProgressAdapter : public RenamedReporter {
public:
    using RenamedReporter::RenamedReporter;
    bool cancelled() override { return interrupted() || RenamedReporter::cancelled(); }
};

}  // namespace

Step<Sequence> shared_step(StepName name) {
    using N = StepName;
    using S = Sequence;
    // name, run, reload, changes nothing, stop before
    static const StepTable<Sequence> rows{
        {N::verify, [](S& s, bool) { return s.record_verify(); }, nullptr, true, nullptr},
        {N::stage, [](S& s, bool) { return s.stage(); }, [](S& s) { s.reload_stage(); }, true, nullptr},
        {N::preflight, [](S& s, bool) { return s.preflight(); }, [](S& s) { s.reload_preflight(); }, true, nullptr},
        {N::update, [](S& s, bool again) { return s.update(again); }, nullptr, false, nullptr},
        {N::kernel_check, [](S& s, bool) { return s.kernel_check(); }, [](S& s) { s.reload_kernel_check(); }, false,
         nullptr},
        {N::unstage, [](S& s, bool) { return s.unstage(); }, nullptr, false, nullptr},
    };
    for (const auto& row : rows)
        if (row.name == name) return row;
    throw std::logic_error("no shared step " + std::string(to_string(name)));
}

Step<Sequence> repos_step(StepEnd (*run)(Sequence&, bool)) {
    return {StepName::repos, run, [](Sequence& s) { s.reload_repos(); }, false, nullptr};
}

Sequence::Sequence(std::string command, StepTable<Sequence> table, const ApplyOptions& o, Reporter& r)
    : command_(std::move(command)), table_(std::move(table)), o_(o), r_(r), target_(o.root, o.state_dir) {
    // An oVirt Node updates as a Node: its bundle names role node, with the image's version.
    role_ = command_ == "host" && is_ovirt_node(target_.root()) ? "node" : command_;
}

// --- the run -----------------------------------------------------------------------------------

void Sequence::run() {
    if (o_.dry_run) return dry_run();
    // Verified before the state dir is even created: a refused bundle leaves no trace.
    verify();
    if (already_applied_) return r_.message(*already_applied_);
    std::error_code ec;
    fs::create_directories(state_dir(), ec);
    if (ec) throw ConfigError("cannot create state dir " + state_dir().string() + ": " + ec.message());
    FileLock lock(Journal::lock_file(state_dir()));
    // Two runs on one system with different state dirs would change it at once: lock the
    // system too.
    fs::create_directories(root_lock_file().parent_path(), ec);
    FileLock root_lock(root_lock_file());
    // Before anything changes: a child the killed run left (engine-setup) must end first.
    refuse_while_child_runs(state_dir());
    check_serial(bundle_.manifest, last_serial());  // another applier may have finished meanwhile
    restore_orphaned_repos();
    const std::vector<std::string> names = step_names(table_);
    journal_.emplace(Journal::open(
        state_dir(), command_, JournalBundle{bundle_.manifest.id, bundle_.manifest.serial, o_.bundle.string()}, names));
    // Ends the run's entry in the history however the run ends (RunRecorder says how).
    RunRecorder history(*journal_, [this](const std::string& line) { r_.message(line); });
    if (journal_->resumed()) {
        auto first = journal_->first_unfinished_step();
        r_.message("resuming at step " + (first ? names[*first] : std::string("(none)")));
        restore_repos();  // a killed run may have left them disabled
    }
    if (!run_steps(*journal_, bind_steps(table_, *this), *this)) return;
    if (record) record_applied();
    history.finish("done");
    r_.message(command_ + ": bundle " + bundle_.manifest.id + " (serial " + std::to_string(bundle_.manifest.serial) +
               ") done");
    maybe_reboot();
}

void Sequence::record_applied() {
    journal_->record_applied(bundle_.manifest_sha256);  // "already applied" compares the signed bundle.json
    // A copy where `rm -rf` of the state dir does not reach: anti-rollback survives it.
    std::error_code ec;
    fs::create_directories(serial_copy_dir(), ec);
    if (auto applied = read_applied(state_dir())) write_applied(serial_copy_dir(), *applied);
}

fs::path Sequence::root_lock_file() const { return target_.path("/run/ovirt-airgap.lock"); }
fs::path Sequence::serial_copy_dir() const { return target_.path("/etc/ovirt-airgap"); }
fs::path Sequence::staging_root() const { return state_dir() / "staged"; }
fs::path Sequence::log_for(const std::string& name) const { return state_dir() / "logs" / (name + ".log"); }

OutputSink Sequence::output_to_reporter() {
    return [this](const char* data, std::size_t size) { r_.output(data, size); };
}

int Sequence::run_child(StepName step, Command command, const std::string& program, const fs::path& log) {
    const std::string name(to_string(step));
    command.on_start([&](pid_t pid) {
        // Read while the child cannot have been reaped: it is ours and not yet waited for.
        auto start = process_start_time(pid);
        journal_->set_step_data(
            name, with_child(journal_->step(name).data, ChildData{program, pid, start.value_or(0), log.string()}));
    });
    return command.run_logged(log, output_to_reporter());
}

// The last serial applied on this system: the state dir's record or its copy in /etc,
// whichever is higher (either may be gone).
std::optional<std::uint64_t> Sequence::last_serial() const {
    auto a = last_applied_serial(state_dir()), b = last_applied_serial(serial_copy_dir());
    if (a && b) return std::max(*a, *b);
    return a ? a : b;
}

VerifyOptions Sequence::verify_options() const {
    VerifyOptions vo;
    vo.trust = o_.trust;
    vo.state_dir = state_dir();
    vo.base = o_.base;
    vo.require_complete = true;
    return vo;
}

void Sequence::verify() {
    VerifyOptions vo = verify_options();
    vo.check_files = false;
    vo.check_expiry = false;
    vo.state_dir.clear();  // the serial is checked below, once "already applied" is ruled out
    bundle_ = verify_bundle(o_.bundle, vo);
    require_publishable();
    if ((already_applied_ = applied_before())) return;
    check_serial(bundle_.manifest, last_serial());
    // A bundle for other machines is refused before it is staged, also where no preflight runs.
    const auto& roles = bundle_.manifest.roles;
    if (std::find(roles.begin(), roles.end(), role_) == roles.end())
        throw BundleRefused("bundle " + bundle_.manifest.id + " is not for role " + role_ +
                            " (roles: " + joined(roles, ", ") + ")");
    // A resumed run checks the signature only: the staged copy is hashed again before use.
    auto existing = Journal::load(state_dir());
    bool resuming = existing && !existing->complete() && existing->command() == command_ &&
                    existing->bundle().id == bundle_.manifest.id;
    // Expiry is checked when a run starts: a started run finishes with the bundle it began.
    if (!resuming) check_not_expired(bundle_.manifest, vo.now);
    const std::string verify_step(to_string(StepName::verify));
    bool verified_before = resuming && existing->step(verify_step).status == StepStatus::done;
    std::string started_with =
        verified_before ? existing->step(verify_step).data.get<VerifyData>().manifest_sha256 : std::string();
    if (!started_with.empty() && started_with != bundle_.manifest_sha256)
        throw BundleRefused(o_.bundle.string() + " is not the medium this run started with: bundle " +
                            bundle_.manifest.id + " has another bundle.json (SHA-256 " + bundle_.manifest_sha256 +
                            ", the run began with " + started_with + ")");
    if (!verified_before) {
        r_.message("verifying " + std::to_string(bundle_.manifest.files.size()) + " files of bundle " +
                   bundle_.manifest.id + " (serial " + std::to_string(bundle_.manifest.serial) + ")" +
                   (bundle_.base ? " and the " + std::to_string(bundle_.manifest.base_bundle->files.size()) +
                                       " its base bundle " + bundle_.base->manifest.id + " lends"
                                 : ""));
        vo.check_files = true;
        ProgressAdapter progress(r_, "verifying");
        try {
            bundle_ = verify_bundle(o_.bundle, vo, &progress);
        } catch (const Interrupted&) {
            throw Interrupted("interrupted during step verify; run the same command again");
        }
    }
    r_.message("signed by " + bundle_.signer.subject + " (SHA-256 " + bundle_.signer.fingerprint_sha256 + ")");
    // The wrong machine for the command is refused before anything is extracted or journaled.
    require_role_fits(role_, bundle_.manifest, o_.root);
}

// `engine --publish` publishes only once the engine's update succeeded; a bundle with nothing
// for the hosts would be refused then, with the engine changed and the command failed. Refused
// as soon as its signed manifest is read instead, before "already applied" (which ends the run
// with nothing to do) and before anything is written.
void Sequence::require_publishable() const {
    if (o_.publish)
        require_something_to_publish(bundle_.manifest, "; refused before anything changed: run `ovirt-applier " +
                                                           command_ + "` without --publish");
}

// This very bundle (same id, same signed bundle.json) applied already, by either record.
std::optional<std::string> Sequence::applied_before() const {
    std::vector<AppliedRecord> records;
    for (const auto& dir : {state_dir(), serial_copy_dir()})
        if (auto a = read_applied(dir)) records.push_back(*a);
    return already_applied(records, bundle_.manifest.id, bundle_.manifest.serial, bundle_.manifest_sha256);
}

void Sequence::dry_run() {
    VerifyOptions vo = verify_options();
    vo.state_dir.clear();  // as a run: "already applied" first, then the serial
    bundle_ = verify_bundle(o_.bundle, vo);
    require_publishable();
    if (auto applied = applied_before()) return r_.message(*applied);
    check_serial(bundle_.manifest, last_serial());
    const BundleManifest& m = bundle_.manifest;
    r_.message("dry run: nothing is changed");
    r_.message("bundle " + m.id + " (serial " + std::to_string(m.serial) + ", expires " + m.expires + "), signed by " +
               bundle_.signer.subject);
    r_.message("steps of `" + command_ + "`: " + joined(step_names(table_), ", "));
    if (auto it = m.target_versions.find(role_); it != m.target_versions.end())
        for (const auto& [name, vr] : it->second) r_.message("target version: " + name + " " + vr);
    if (o_.maintenance) r_.message("the Engine knows this host as " + o_.maintenance->find_host());
    ScratchDir scratch("ovirt-airgap-apply");
    StagedBundle staged = stage_metadata(bundle_, scratch.path());
    Reporter quiet;
    Preflight p = preflight_check(role_, m, staged.dir, o_, state_dir(), quiet);
    for (const auto& pkg : p.resolution.packages)
        r_.message("package: " + pkg.nevra + " (" + std::string(to_string(pkg.reason)) + ", from " + pkg.repo + ")");
    r_.message(std::to_string(p.resolution.packages.size()) + " packages would be installed or updated");
}

// A run refused before it changed anything leaves no unfinished journal behind (it would
// block the next, good bundle) and no staged copy.
void Sequence::abandon() {
    std::error_code ec;
    fs::remove_all(staged_dir_for(staging_root(), bundle_.manifest.id), ec);
    fs::remove(Journal::journal_file(state_dir()), ec);
}

void Sequence::step_event(StepName step, const std::string& status, const std::string& detail) {
    note_step(o_.step_sink, *journal_, std::string(to_string(step)), status, detail);
}

bool Sequence::has_step(StepName step) const {
    return std::any_of(table_.begin(), table_.end(), [step](const auto& row) { return row.name == step; });
}

bool Sequence::step_done(StepName step) const {
    return has_step(step) && journal_->step(std::string(to_string(step))).status == StepStatus::done;
}

std::map<std::string, std::string> Sequence::role_targets() const {
    auto it = bundle_.manifest.target_versions.find(role_);
    return it == bundle_.manifest.target_versions.end() ? std::map<std::string, std::string>{} : it->second;
}

// --- verify, stage, preflight ------------------------------------------------------------------

StepEnd Sequence::record_verify() {
    set_data(StepName::verify, VerifyData{bundle_.manifest_sha256});  // what a resumed run's medium must still be
    return StepEnd::done;
}

StepEnd Sequence::stage() {
    stage_copy();
    return StepEnd::done;
}

void Sequence::stage_copy() {
    std::uint64_t size = 0;
    for (const auto& f : bundle_.manifest.files) size += f.size;
    if (bundle_.base)
        for (const auto& f : bundle_.manifest.base_bundle->files) size += f.size;
    fs::create_directories(state_dir());
    if (free_bytes(state_dir()) < size)
        throw ConfigError("not enough free space in " + state_dir().string() + " to stage the bundle: " + mib(size) +
                          " needed, " + mib(free_bytes(state_dir())) + " free");
    ProgressAdapter progress(r_, "staging");
    staged_ = stage_bundle(bundle_, staging_root(), &progress);
    r_.message("staged a verified copy at " + staged_.dir.string());
    set_data(StepName::stage, StageData{staged_.dir.string()});
}

// A resumed run uses the staged copy only after hashing it again against the signed manifest:
// it may have been changed, or be gone, since the run that made it. The place is always our
// own; a journal that names another is not believed.
void Sequence::reload_stage() {
    // After unstage (a host waiting for its reboot) the bundle stays gone.
    if (step_done(StepName::unstage)) return;
    const std::string recorded = data<StageData>(StepName::stage).dir;
    staged_.dir = staged_dir_for(staging_root(), bundle_.manifest.id);
    if (!recorded.empty() && recorded != staged_.dir.string())
        r_.message("the journal names " + recorded + " as the staged copy; ignored, the copy is " +
                   staged_.dir.string());
    std::string why;
    if (!fs::exists(staged_.dir)) {
        why = "is gone";
    } else {
        ProgressAdapter progress(r_, "checking the staged copy");
        try {
            check_staged(bundle_, staged_.dir, &progress);
            return;
        } catch (const BundleRefused& e) {
            why = "does not match the signed manifest (" + std::string(e.what()) + ")";
        }
    }
    r_.message("staged copy " + staged_.dir.string() + " " + why + "; staging again from the medium");
    stage_copy();
}

StepEnd Sequence::preflight() {
    // A package manager that cannot be started is found before anything changes.
    if (has_step(StepName::update)) require_package_manager(o_);
    Preflight p = preflight_check(role_, bundle_.manifest, staged_.dir, o_, state_dir(), r_);
    kernel_before_ = p.kernel.value_or("");
    PreflightData d{kernel_before_, p.resolution.packages.size(), "", std::nullopt};
    if (role_ == "node") node_ = d.node = node_before(p);
    if (o_.maintenance) {
        // Before any change: a host the Engine does not know is a configuration error.
        host_name_ = o_.maintenance->find_host();
        d.host = host_name_;
        r_.message("the Engine knows this host as " + host_name_);
    }
    set_data(StepName::preflight, d);
    return StepEnd::done;
}

void Sequence::reload_preflight() {
    auto d = data<PreflightData>(StepName::preflight);
    kernel_before_ = d.kernel;
    host_name_ = d.host;
    node_ = d.node;
}

// --- repo files --------------------------------------------------------------------------------

void Sequence::write_repo_file() {
    fs::path file = write_bundle_repofile(o_.root, bundle_.manifest, staged_.dir);
    r_.message("wrote " + file.string());
    retire_earlier_bundles();
}

void Sequence::reload_repos() {
    // After unstage (a host waiting for its reboot) the repo file stays gone.
    if (step_done(StepName::unstage)) return;
    write_bundle_repofile(o_.root, bundle_.manifest, staged_.dir);
}

// Only one bundle's repos are offered at a time: an earlier bundle (a host staged for the
// Engine and never updated from it, say) loses its repo file and its staged copy once this
// one's repo file is in place. An unfinished run of another bundle never gets here: the
// journal refuses to start.
void Sequence::retire_earlier_bundles() {
    std::set<std::string> ids;
    for (const auto& id : earlier_bundle_repofiles(o_.root, bundle_.manifest.id)) {
        remove_bundle_repofile(o_.root, id);
        ids.insert(id);
    }
    for (const auto& id : unstage_earlier(staging_root(), bundle_.manifest.id)) ids.insert(id);
    for (const auto& id : ids) r_.message("removed earlier bundle " + id + " (its repo file and staged copy)");
}

void Sequence::disable_repos() {
    auto d = data<ReposData>(StepName::repos);
    if (d.active) return;
    d.changes = plan_disable_other_repos(yum_repos_dir(o_.root));
    save_original_repos(state_dir(), d.changes);
    d.active = true;
    set_data(StepName::repos, d);  // the originals are safe before anything changes
    apply_repo_changes(d.changes);
    for (const auto& c : d.changes) r_.message("disabled the repos of " + c.file.string() + " for this run");
}

void Sequence::restore_repos() {
    if (!journal_) return;
    auto d = data<ReposData>(StepName::repos);
    if (!d.active) return;
    put_back_repos(d.changes);
    d.active = false;
    set_data(StepName::repos, d);
    forget_original_repos(state_dir());
}

void Sequence::put_back_repos(const std::vector<RepoFileChange>& changes) {
    for (const auto& f : restore_repo_changes(changes))
        r_.message("left " + f.string() + " as a package update rewrote it");
    if (!changes.empty()) r_.message("restored " + std::to_string(changes.size()) + " repo files");
}

// A run that is not resumed (its journal moved aside as damaged, or lost) may have left repo
// files disabled: their originals, kept beside the journal, go back before anything else.
void Sequence::restore_orphaned_repos() {
    auto existing = Journal::load(state_dir());
    if (existing && !existing->complete()) return;  // resumed, or refused by Journal::open
    auto saved = saved_original_repos(state_dir());
    if (saved.empty()) return;
    r_.message("an earlier run without a journal left repo files disabled; putting back the originals kept in " +
               original_repos_dir(state_dir()).string());
    put_back_repos(saved);
    forget_original_repos(state_dir());
}

// --- the package manager -----------------------------------------------------------------------

StepEnd Sequence::update(bool again) {
    package_manager(StepName::update, {"update"}, again);
    check_targets_reached();
    return StepEnd::done;
}

void Sequence::package_manager(StepName step, const std::vector<std::string>& args, bool again) {
    if (again) finish_cut_short_transaction(step);
    const std::string name(to_string(step));
    Command command = Command::from_argv(package_manager_argv(o_, args));
    r_.message("running " + command.line());
    int code = run_child(step, command, fs::path(command.program()).filename().string(), log_for(name));
    if (code != 0 && interrupted())
        throw Interrupted(command.program() + " ended with " + std::to_string(code) + " on the signal");
    if (code != 0)
        throw StepFailed(command.line() + " exited with " + std::to_string(code) + " (see " + log_for(name).string() +
                         ")");
    // Success is never reported over a half-done rpmdb; the re-run cleans it up.
    if (auto left = older_duplicates(o_.root); !left.empty())
        throw StepFailed("packages are installed twice after " + command.line() + ": " + joined(left, ", "));
}

// A package-manager step cut short (kill -9, power loss) may have left its transaction half
// done, which a plain re-run does not see ("Nothing to do"). The EL7 way first:
// yum-complete-transaction, from yum's own record of the transaction; then the older copy of
// every package still installed twice is erased, as package-cleanup --cleandupes does.
void Sequence::finish_cut_short_transaction(StepName step) {
    fs::path complete = "/usr/sbin/yum-complete-transaction";
    if (target_.is_this_system() && !unfinished_yum_transactions(o_.root).empty() && fs::exists(complete)) {
        r_.message("finishing the interrupted yum transaction with " + complete.string());
        int code = run_child(step, Command(complete.string()).arg("-y"), "yum-complete-transaction",
                             log_for("complete-transaction"));
        if (code != 0)
            throw StepFailed(complete.string() + " exited with " + std::to_string(code) + " (see " +
                             log_for("complete-transaction").string() + ")");
    }
    auto older = older_duplicates(o_.root);
    if (!older.empty()) {
        r_.message("an interrupted transaction left packages installed twice; removing the older " +
                   joined(older, ", "));
        Command rpm("rpm");
        rpm.args({"--dbpath", "/var/lib/rpm"}).args(target_.rpm_args()).arg("-e").args(older);
        int code = rpm.run_logged(log_for("cleandupes"), output_to_reporter());
        if (code != 0 || !older_duplicates(o_.root).empty())
            throw StepFailed("could not remove the older duplicate packages (see " + log_for("cleandupes").string() +
                             ")");
    }
    // What yum-complete-transaction --cleanup-only does: the record of a finished transaction.
    std::error_code ec;
    for (const auto& f : unfinished_yum_transactions(o_.root)) fs::remove(f, ec);
}

// A run never reports success with the role's packages below the bundle's versions.
void Sequence::check_targets_reached() {
    auto below = below_target(o_.root, role_targets());
    if (!below.empty())
        throw StepFailed("after the update " + joined(below, ", ") + " is still below the bundle's version");
}

// --- kernel, reboot, unstage -------------------------------------------------------------------

StepEnd Sequence::kernel_check() {
    std::string newest = newest_kernel(o_.root).value_or("");
    // Under --root the running kernel is the host's: the root's own /proc says which it runs, if it
    // has one; else compare with the root's newest at the start.
    std::string running =
        target_.booted_kernel().value_or(target_.is_this_system() ? target_.running_kernel() : kernel_before_);
    kernel_ = KernelCheckData{newest, running, !newest.empty() && !running.empty() && newest != running, boot_id()};
    checked_this_run_ = true;
    set_data(StepName::kernel_check, kernel_);
    if (kernel_.reboot_needed) r_.message("reboot needed: kernel " + newest + " installed, running " + running);
    return StepEnd::done;
}

void Sequence::reload_kernel_check() { kernel_ = data<KernelCheckData>(StepName::kernel_check); }

// Appendix C: a re-run on this machine knows the reboot by its boot id; under --root it cannot
// see one and goes on.
bool Sequence::stop_for_reboot() {
    if (!kernel_.reboot_needed) return false;
    bool same_boot =
        checked_this_run_ || (target_.is_this_system() && !kernel_.boot_id.empty() && boot_id() == kernel_.boot_id);
    if (!same_boot) {
        kernel_.reboot_needed = false;  // rebooted: the end of this run must not reboot again
        return false;
    }
    r_.message(host_name_ + " stays in Maintenance: reboot" + (checked_this_run_ ? "" : " first") +
               ", then run the same command again to activate it");
    if (checked_this_run_) maybe_reboot();
    return true;
}

void Sequence::maybe_reboot() {
    if (!(kernel_.reboot_needed || layer_reboot_needed_) || !o_.reboot) return;
    if (!target_.is_this_system()) {
        r_.message("not rebooting: --root names another system");
        return;
    }
    r_.message("rebooting");
    Command("systemctl").arg("reboot").run_logged(log_for("reboot"));
}

StepEnd Sequence::unstage() {
    remove_bundle_repofile(o_.root, bundle_.manifest.id);
    unstage_bundle(staged_);
    return StepEnd::done;
}

}  // namespace airgap::repo
