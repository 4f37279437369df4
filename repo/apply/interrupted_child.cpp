#include "repo/apply/interrupted_child.hpp"

#include "repo/apply/step_data_private.hpp"
#include "repo/base/error.hpp"
#include "repo/base/spawn.hpp"
#include "repo/state/journal.hpp"

namespace airgap::repo {

std::optional<RunningChild> running_child(const Journal& journal) {
    for (const auto& step : journal.steps()) {
        if (step.status == StepStatus::done) continue;
        ChildData child = child_of(step.data);
        if (child.pid > 0 && process_running(child.pid, child.start_time))
            return RunningChild{step.name, child.program, child.pid, child.log};
    }
    return std::nullopt;
}

std::string still_running_line(const RunningChild& child) {
    return child.program + " (pid " + std::to_string(child.pid) +
           ") from the interrupted run is still running: wait for it to end (see " + child.log +
           "), then run the same command again";
}

namespace {

std::optional<RunningChild> running_child_in(const std::filesystem::path& state_dir) {
    auto journal = Journal::load(state_dir);
    if (!journal || journal->complete()) return std::nullopt;
    return running_child(*journal);
}

}  // namespace

void refuse_while_child_runs(const Journal& journal) {
    if (auto child = running_child(journal)) throw ConfigError(still_running_line(*child));
}

void refuse_while_child_runs(const std::filesystem::path& state_dir) {
    if (auto child = running_child_in(state_dir)) throw ConfigError(still_running_line(*child));
}

std::vector<std::string> describe_running_child(const std::filesystem::path& state_dir) {
    if (auto child = running_child_in(state_dir)) return {still_running_line(*child)};
    return {};
}

}  // namespace airgap::repo
