#pragma once
// The applier's sequences as tables (docs/journal.md): each row a step's name, what it does, and
// what a later run takes back from the journal once it is done. One loop runs any table through
// the Journal: a done step is reloaded, never run again; the first step not done runs, journaled
// before and after; a failure is journaled, what the run changed for itself is given back, and
// the error keeps the exit code it deserves.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/state/journal.hpp"

namespace airgap::repo {

/// Every step any sequence has. The journal names them as to_string() spells them.
enum class StepName {
    verify,
    stage,
    preflight,
    repos,
    maintenance,
    engine_upgrade_check,
    update_setup,
    engine_setup,
    restore_repos,
    update,
    kernel_check,
    new_layer,  ///< on an oVirt Node
    unstage,
    running_layer,  ///< on an oVirt Node
    activate,
};

/// The name as the journal writes it: "verify", ..., "engine-upgrade-check", "new-layer".
std::string_view to_string(StepName step);
/// The step a journal's name stands for; nullopt for a name no sequence has.
std::optional<StepName> step_name_from_string(std::string_view name);

/// How a step's work ended when it did not throw.
enum class StepEnd {
    done,       ///< the loop journals the step done
    journaled,  ///< the step journaled itself, and the steps it made unnecessary, done (skipped work)
};

/// One row of a sequence's table over the sequence's state, `Context`.
template <class Context>
struct Step {
    StepName name;
    /// The step's work; `again` is true when the step was begun before (a failed or killed run).
    StepEnd (*run)(Context& context, bool again);
    /// Takes back from the journal what the done step left for the steps after it; null: nothing.
    void (*reload)(Context& context) = nullptr;
    /// The step changes nothing on the target: its refusal (ConfigError, BundleRefused,
    /// ResolveProblem) keeps its own exit code and leaves no unfinished run behind.
    bool changes_nothing = false;
    /// Asked before the step runs; true stops the run there, to be resumed by the same command
    /// later (a host that must reboot first). Null: never.
    bool (*stop_before)(Context& context) = nullptr;
};

template <class Context>
using StepTable = std::vector<Step<Context>>;

/// A row with its context bound: what the loop runs.
struct BoundStep {
    StepName name;
    std::function<StepEnd(bool again)> run;
    std::function<void()> reload;  ///< empty: nothing to take back
    bool changes_nothing = false;
    std::function<bool()> stop_before;  ///< empty: never
};

template <class Context>
std::vector<BoundStep> bind_steps(const StepTable<Context>& table, Context& context) {
    std::vector<BoundStep> out;
    for (const auto& row : table) {
        BoundStep b;
        b.name = row.name;
        auto run = row.run;
        b.run = [run, &context](bool again) { return run(context, again); };
        if (auto reload = row.reload) b.reload = [reload, &context] { reload(context); };
        b.changes_nothing = row.changes_nothing;
        if (auto stop = row.stop_before) b.stop_before = [stop, &context] { return stop(context); };
        out.push_back(std::move(b));
    }
    return out;
}

/// The table's step names, in order, as the journal writes them.
template <class Context>
std::vector<std::string> step_names(const StepTable<Context>& table) {
    std::vector<std::string> names;
    for (const auto& row : table) names.emplace_back(to_string(row.name));
    return names;
}

/// What the loop asks of the sequence around the steps.
class StepHooks {
public:
    virtual ~StepHooks() = default;
    /// One line of the applier's own ("step engine-setup: done").
    virtual void message(const std::string& line) = 0;
    /// The run stops (a step failed, a signal came): give back what the run changed only for
    /// its own duration (the repo files it disabled).
    virtual void give_back() {}
    /// A step that changes nothing refused the run: drop what the run left (its journal, its
    /// staged copy), so that nothing blocks the next, right command.
    virtual void abandon() {}
    /// A step began ("running"), ended ("done") or failed ("failed", with the reason in `detail`),
    /// told after the journal has it: the step log and syslog follow the run.
    virtual void step_event(StepName /*step*/, const std::string& /*status*/, const std::string& /*detail*/) {}
};

/// Runs `steps` through `journal`, which holds exactly these steps. A done step is reloaded; a
/// step whose stop_before says so ends the run (false); the others run in order, each journaled
/// running before and done or failed after. A failure throws: Interrupted (130) when a signal
/// stopped it; the refusal itself from a step that changes nothing, after abandon(); otherwise
/// StepFailed "step NAME failed; run the same command again to resume" with the cause nested.
/// A signal during a step that finishes anyway (engine-setup) ends the run after it with
/// Interrupted. True when every step is done.
bool run_steps(Journal& journal, const std::vector<BoundStep>& steps, StepHooks& hooks);

}  // namespace airgap::repo
