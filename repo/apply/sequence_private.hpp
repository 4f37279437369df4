#pragma once
// The state and the shared steps of the engine and host sequences (repo/apply/engine_sequence.hpp
// says what they do; docs/journal.md how they are journaled). A Sequence runs its table of steps
// through the Journal; the steps only one sequence has live with its table, in
// engine_sequence.cpp and host_sequence.cpp, and reach the state through the accessors here.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo/apply/bundle_verify.hpp"
#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/preflight_private.hpp"
#include "repo/apply/step_data_private.hpp"
#include "repo/apply/step_table_private.hpp"
#include "repo/base/spawn.hpp"
#include "repo/base/target.hpp"
#include "repo/state/journal.hpp"

namespace airgap::repo {

class Sequence;

/// This machine's boot id: it changes with every boot, and tells a re-run whether the reboot a
/// new kernel or a Node's new layer needs has happened.
std::string boot_id();

/// The row of a step both sequences run alike: verify, stage, preflight, update, kernel-check,
/// unstage (std::logic_error for another).
Step<Sequence> shared_step(StepName name);
/// The `repos` row: `run` is the sequence's own (what it does with the other repos); a done
/// step's reload writes the bundle's repo file again.
Step<Sequence> repos_step(StepEnd (*run)(Sequence& sequence, bool again));

class Sequence : public StepHooks {
public:
    /// `command` is "engine" or "host", the journal's command and the role the bundle must name.
    Sequence(std::string command, StepTable<Sequence> table, const ApplyOptions& o, Reporter& r);

    /// The whole run: verify, lock, journal, the steps, the record of the applied bundle, the
    /// reboot. A dry run verifies and shows the plan only.
    void run();
    /// False: a finished run records no applied serial (a host staged for the Engine, not updated).
    bool record = true;

    // What the loop asks (StepHooks).
    void message(const std::string& line) override { r_.message(line); }
    void give_back() override { restore_repos(); }
    void abandon() override;
    void step_event(StepName step, const std::string& status, const std::string& detail) override;

    // --- steps both sequences have ---
    StepEnd record_verify();
    StepEnd stage();
    void reload_stage();
    StepEnd preflight();
    void reload_preflight();
    /// The bundle's repo file, in place of any earlier bundle's.
    void write_repo_file();
    void reload_repos();
    /// `yum update` from the bundle, then the role's packages must have reached its versions.
    StepEnd update(bool again);
    /// Runs the package manager with `args` for step `step` (its log is the step's); `again`:
    /// finish a transaction a cut-short earlier attempt left first.
    void package_manager(StepName step, const std::vector<std::string>& args, bool again);
    StepEnd kernel_check();
    void reload_kernel_check();
    StepEnd unstage();
    /// A host updated to a new kernel is activated only after its reboot: true when this run
    /// stops before `activate` (after rebooting with --reboot).
    bool stop_for_reboot();

    // --- the steps of an oVirt Node (node_sequence.cpp) ---
    /// The update left the image's new layer behind (or, without an image update, none).
    StepEnd new_layer();
    void reload_new_layer();
    /// True when the run stops until the Node runs its new layer (after rebooting with --reboot).
    bool stop_for_new_layer();
    /// After the reboot: the Node runs the new layer.
    StepEnd running_layer();

    /// The other repos disabled for the run (engine-upgrade-check and engine-setup ask yum about
    /// every enabled repo), journaled before they change; restore_repos() puts them back.
    void disable_repos();
    void restore_repos();

    // --- for the steps of one sequence ---
    const ApplyOptions& options() const noexcept { return o_; }
    Reporter& reporter() noexcept { return r_; }
    const Target& target() const noexcept { return target_; }
    const std::filesystem::path& state_dir() const noexcept { return target_.state_dir(); }
    Journal& journal() { return *journal_; }
    const VerifiedBundle& bundle() const noexcept { return bundle_; }
    /// The Engine's name of this host, found by the preflight (`host --update` with the Engine).
    const std::string& host_name() const noexcept { return host_name_; }
    /// STATE/logs/NAME.log: where a step's programs write.
    std::filesystem::path log_for(const std::string& name) const;
    /// The role the bundle must name: the command's, or "node" for `host` on an oVirt Node.
    const std::string& role() const noexcept { return role_; }
    /// The bundle's versions for this role: package name -> version-release.
    std::map<std::string, std::string> role_targets() const;
    /// A command's output goes to the reporter as it comes.
    OutputSink output_to_reporter();
    /// Runs `command` for `step` as Command::run_logged() does, its output to the reporter, and
    /// journals it as the step's child (ChildData, named `program`) as soon as it runs: a re-run
    /// after a kill then refuses while it is still at work (interrupted_child.hpp).
    int run_child(StepName step, Command command, const std::string& program, const std::filesystem::path& log);

    template <class Data>
    Data data(StepName step) const {
        return journal_->step(std::string(to_string(step))).data.template get<Data>();
    }
    /// Journals `data` for `step`: call before changing what the data restores.
    template <class Data>
    void set_data(StepName step, const Data& data) {
        journal_->set_step_data(std::string(to_string(step)), nlohmann::json(data));
    }

private:
    std::filesystem::path root_lock_file() const;
    std::filesystem::path serial_copy_dir() const;
    std::filesystem::path staging_root() const;
    std::optional<std::uint64_t> last_serial() const;
    VerifyOptions verify_options() const;
    void verify();
    void require_publishable() const;
    std::optional<std::string> applied_before() const;
    void dry_run();
    void record_applied();
    bool has_step(StepName step) const;
    bool step_done(StepName step) const;
    void stage_copy();
    void retire_earlier_bundles();
    void put_back_repos(const std::vector<RepoFileChange>& changes);
    void restore_orphaned_repos();
    void finish_cut_short_transaction(StepName step);
    void check_targets_reached();
    void maybe_reboot();
    NodeBefore node_before(const Preflight& p) const;

    std::string command_;
    std::string role_;
    StepTable<Sequence> table_;
    const ApplyOptions& o_;
    Reporter& r_;
    Target target_;
    VerifiedBundle bundle_;
    std::optional<Journal> journal_;
    StagedBundle staged_;
    std::string kernel_before_;  // the newest installed kernel at the preflight
    std::string host_name_;
    KernelCheckData kernel_;            // the kernel check, this run's or reloaded
    bool checked_this_run_ = false;     // the kernel check or new-layer ran in this run (no reboot can have happened)
    std::optional<NodeBefore> node_;    // on a Node: the layers at the preflight
    NewLayerData layer_;                // on a Node: the new layer, this run's or reloaded
    bool layer_reboot_needed_ = false;  // on a Node: the new layer waits for its reboot
    std::optional<std::string> already_applied_;  // set by verify(): this very bundle was applied, nothing to do
};

}  // namespace airgap::repo
