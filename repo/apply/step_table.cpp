#include "repo/apply/step_table_private.hpp"

#include <array>
#include <exception>

#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"

namespace airgap::repo {

namespace {

// The journal's spelling of each step, in StepName's order; the journal format on disk depends on it.
constexpr std::array<std::string_view, 15> kNames{
    "verify",       "stage",         "preflight",     "repos",  "maintenance",  "engine-upgrade-check",
    "update-setup", "engine-setup",  "restore-repos", "update", "kernel-check", "new-layer",
    "unstage",      "running-layer", "activate"};
static_assert(kNames.size() == static_cast<std::size_t>(StepName::activate) + 1, "a name for every step");

// Runs one step that is not done yet; throws as run_steps() says.
void run_one(Journal& j, const BoundStep& step, StepHooks& hooks) {
    const std::string name(to_string(step.name));
    hooks.message("step " + name + ": running");
    const bool again = j.step(name).status != StepStatus::pending;
    j.begin_step(name);
    hooks.step_event(step.name, "running", {});
    try {
        throw_if_interrupted("interrupted before it started");
        if (step.run(again) == StepEnd::journaled) {
            hooks.step_event(step.name, "done", {});  // it journaled itself done
            return;
        }
        j.finish_step(name);
        hooks.step_event(step.name, "done", {});
        hooks.message("step " + name + ": done");
    } catch (const std::exception& e) {
        bool stopped = dynamic_cast<const Interrupted*>(&e) != nullptr || interrupted();
        std::string what = stopped ? "interrupted (" + describe(e) + ")" : describe(e);
        try {
            j.fail_step(name, what);
        } catch (const std::exception& journal_error) {
            // A journal that cannot be written (full disk) must not keep the repos disabled.
            hooks.message("could not journal the failure: " + describe(journal_error));
        }
        hooks.step_event(step.name, "failed", what);
        hooks.message("step " + name + ": failed: " + what);
        try {
            hooks.give_back();
        } catch (const std::exception& restore_error) {
            hooks.message("could not restore the repo files: " + describe(restore_error));
        }
        if (stopped) throw Interrupted("interrupted during step " + name + "; run the same command again to resume");
        // Refusals, dependency problems and a machine that does not fit are found before any
        // change to the target: they keep their own exit codes.
        if (step.changes_nothing && (dynamic_cast<const BundleRefused*>(&e) ||
                                     dynamic_cast<const ResolveProblem*>(&e) || dynamic_cast<const ConfigError*>(&e))) {
            hooks.abandon();
            throw;
        }
        std::throw_with_nested(StepFailed("step " + name + " failed; run the same command again to resume"));
    }
}

}  // namespace

std::string_view to_string(StepName step) {
    const auto i = static_cast<std::size_t>(step);
    return i < kNames.size() ? kNames[i] : "?";
}

std::optional<StepName> step_name_from_string(std::string_view name) {
    for (std::size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == name) return static_cast<StepName>(i);
    return std::nullopt;
}

bool run_steps(Journal& journal, const std::vector<BoundStep>& steps, StepHooks& hooks) {
    for (const auto& step : steps) {
        const std::string name(to_string(step.name));
        if (journal.step(name).status == StepStatus::done) {
            if (step.reload) step.reload();
            continue;
        }
        if (step.stop_before && step.stop_before()) return false;
        run_one(journal, step, hooks);
        // A signal during a step that is not stopped (engine-setup) ends the run right after it.
        if (interrupted()) {
            hooks.give_back();
            throw Interrupted("interrupted after step " + name + "; run the same command again to resume");
        }
    }
    return true;
}

}  // namespace airgap::repo
