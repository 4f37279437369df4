#pragma once
// The applier's update sequences (docs/journal.md):
// a list of named steps run through the Journal, each journaled before and after it runs, so
// that a re-run resumes at the first step not done and never repeats a finished one.
//
// Engine: verify, stage, preflight, repos, engine-upgrade-check, update-setup, engine-setup,
// restore-repos, update, kernel-check, unstage. The other repos are disabled only while
// engine-upgrade-check and engine-setup (which ask yum about enabled repos) may run, and put
// back before the final package update: rpm then sees ovirt-release43's .repo files as the
// administrator left them and updates them as it would without us. The package manager itself
// always runs with `--disablerepo=* --enablerepo=ovirt-airgap-*`.
// Host: verify, stage, repos (the repo file for the Engine's host upgrade manager); with
// --update also preflight, update, kernel-check, unstage. With --update and the Engine
// (appendix C): maintenance before the update and activate last; when a newer kernel needs a
// reboot the run stops before activate, and the same command after the reboot resumes there.
// Host on an oVirt Node (repo/apply/node_image_private.hpp): update, new-layer (imgbased registered the
// image's layer; a reboot is always needed), unstage, then the run stops until the Node runs that
// layer; the re-run's running-layer checks it, before activate.
// SIGINT/SIGTERM (repo/base/interrupt.hpp) stop a run at the next step boundary, or when the package
// manager that got the signal too has ended: the step is journaled as failed ("interrupted") and
// Interrupted (exit 130) thrown. engine-setup runs in its own process group, so that Ctrl-C does
// not reach it: it finishes, its step is journaled done, and then the run stops with 130.
// The package manager only ever reads the bundle's private staged copy (bundle_verify.hpp);
// a resumed run hashes that copy again before using it and never reads the medium unhashed.
// Each sequence is a table of steps (step_table_private.hpp) over the state in
// sequence_private.hpp: engine_sequence.cpp holds the engine's table, host_sequence.cpp the
// host's, node_sequence.cpp the oVirt Node's, preflight_private.hpp the checks before anything
// changes, step_data_private.hpp what each step journals. All of them live in repo/apply/.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "repo/apply/engine_setup_answers.hpp"
#include "repo/apply/step_log.hpp"
#include "repo/base/reporter.hpp"

namespace airgap::repo {

/// Appendix C: how `host --update` reaches the Engine. ovirt-applier implements it over
/// repo/host_rollout; the sequence only calls it. Each call throws ConfigError or StepFailed.
class HostMaintenance {
public:
    virtual ~HostMaintenance() = default;
    /// The Engine's name of this host, found by name or address; ConfigError when it has none.
    /// Changes nothing (called by the preflight).
    virtual std::string find_host() = 0;
    /// Moves the host `name` to Maintenance (its VMs migrate away) and waits for it.
    virtual void deactivate(const std::string& name) = 0;
    /// Activates the host `name` and waits until it is Up.
    virtual void activate(const std::string& name) = 0;
};

/// What an applier run was asked to do (the command line of `engine` and `host`).
struct ApplyOptions {
    std::filesystem::path bundle;
    std::filesystem::path trust;
    std::filesystem::path base;       ///< the base of an incremental bundle (`--base`)
    std::filesystem::path root;       ///< the target system; empty: this machine (repo/base/target.hpp)
    std::filesystem::path state_dir;  ///< empty: /var/lib/ovirt-airgap inside `root`
    std::string package_manager = "yum";
    std::filesystem::path engine_upgrade_check = "/usr/bin/engine-upgrade-check";  ///< inside root
    std::filesystem::path engine_setup = "/usr/bin/engine-setup";                  ///< inside root
    std::filesystem::path answer_file;  ///< the administrator's extra engine-setup answers
    bool dry_run = false;
    bool reboot = false;
    /// Hosted engine: the operator confirms the cluster is in global maintenance.
    bool he_global_maintenance_confirmed = false;
    bool host_update = false;  ///< `host --update`
    /// `host --update --host-in-maintenance`: the administrator says the Engine has this host in
    /// Maintenance. Without it (and without `maintenance`) a host running VMs is refused.
    bool host_in_maintenance = false;
    /// `host --update --engine-url ...`: maintenance and activation through the Engine; not
    /// owned, outlives the run. Null: the host is in Maintenance already.
    HostMaintenance* maintenance = nullptr;
    /// Told every step's start, end and failure (ovirt-applier: syslog); not owned. May be null.
    StepSink* step_sink = nullptr;
    /// `engine --publish`: the bundle is published for the hosts once the engine is updated, so
    /// a bundle with nothing for hosts is refused with the bundle's other checks, before
    /// anything changes (also in a dry run).
    bool publish = false;
};

/// The step names, in order, of `engine` and of `host` (with or without --update; with the
/// Engine also "maintenance" before "update" and "activate" last; on an oVirt Node "new-layer"
/// in place of "kernel-check" and "running-layer" after "unstage").
std::vector<std::string> engine_steps();
std::vector<std::string> host_steps(bool update, bool engine = false, bool node = false);

/// The package manager's argv for `args` (e.g. {"update"}): `package_manager` split on spaces,
/// then -y, --disablerepo=*, --enablerepo=ovirt-airgap-*, and --installroot ROOT with a root.
std::vector<std::string> package_manager_argv(const ApplyOptions& options, const std::vector<std::string>& args);

/// ConfigError "--package-manager: 'X' is neither an executable file nor a command on PATH"
/// when the package manager's program is not what execvp() would start; changes nothing.
void require_package_manager(const ApplyOptions& options);

/// `ovirt-applier engine`. Throws BundleRefused (2), ResolveProblem (3), StepFailed (4),
/// ConfigError (1: usage, lock held, preflight on a machine that does not fit).
void run_engine(const ApplyOptions& options, Reporter& reporter);

/// `ovirt-applier host`. Same errors. Staging without --update also holds the host's upstream
/// repos (repo/apply/held_repos.hpp) until the bundle is unstaged.
void run_host(const ApplyOptions& options, Reporter& reporter);

/// `ovirt-applier host --unstage`: removes every staged bundle (repo file and staged copy) and
/// gives the held upstream repos back exactly as they were. Uses `root` and `state_dir` only.
/// ConfigError while a run is unfinished or the lock is held.
void unstage_host(const ApplyOptions& options, Reporter& reporter);

}  // namespace airgap::repo
