#pragma once
// A program a killed run left running. engine-setup runs in a process group of its own, so a
// kill -9 of the applier (an OOM kill, a lost session) leaves it at work; the package manager's
// child can outlive it the same way. A re-run that resumed at that step would start a second
// one beside the first. Neither guards itself: engine-setup 4.3 has no lock of its own (nothing
// in ovirt-engine-4.3.10 packaging/setup); otopi 1.8 (src/plugins/otopi/packagers/yumpackager.py
// and src/otopi/miniyum.py beginTransaction) takes yum's lock /var/run/yum.pid only for its main
// transaction, and YumBase.doLock (yum 3.4.3, yum/__init__.py) does not wait for it: a second
// engine-setup runs its customization beside the first and fails with "Existing lock
// /var/run/yum.pid: another copy is running as pid N." (otopi's exit code 1) once it reaches
// its transaction. The yum command waits instead (cli.py waitForLock: "Another app is currently
// holding the yum lock; waiting for it to exit..."), unless exit_on_lock is set. So each step
// that starts such a child journals its pid and start time (ChildData), and the applier's
// commands check it before they touch anything.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace airgap::repo {

class Journal;

/// A child of an unfinished step that still runs.
struct RunningChild {
    std::string step;
    std::string program;
    pid_t pid = 0;
    std::string log;
};

/// The child an unfinished step of `journal` started and that still runs (the same pid with the
/// same start time, on this machine: the applier and its children run here also with --root);
/// nullopt when none does, or the journal is complete.
std::optional<RunningChild> running_child(const Journal& journal);

/// "engine-setup (pid N) from the interrupted run is still running: wait for it to end (see
/// LOG), then run the same command again".
std::string still_running_line(const RunningChild& child);

/// ConfigError (exit 1, as for another applier holding the lock: try again later) with
/// still_running_line() when the unfinished run of `journal` left a child that still runs;
/// nothing is changed, so the same command later resumes.
void refuse_while_child_runs(const Journal& journal);
/// The same for the journal in `state_dir`; does nothing without one.
void refuse_while_child_runs(const std::filesystem::path& state_dir);

/// For `status`: the line above, or nothing.
std::vector<std::string> describe_running_child(const std::filesystem::path& state_dir);

}  // namespace airgap::repo
