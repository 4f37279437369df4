#include <unistd.h>

#include <iostream>
#include <memory>

#include "bundler/commands.hpp"
#include "bundler/plan_options.hpp"
#include "bundler/report.hpp"
#include "cli/progress_view.hpp"
#include "repo/base/error.hpp"

namespace airgap::bundler {

void add_resolve_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("resolve", "Resolve what the isolated machines need, and show it");
    auto options = std::make_shared<PlanOptions>();
    auto json = std::make_shared<bool>(false);
    add_plan_options(cmd, *options);
    cmd->add_flag("--json", *json, R"(Print JSON: {"packages": [...], "problems": [...], "locked": [...]})");
    cmd->callback([options, json] {
        // Log lines from fetching go to stderr, so that stdout stays the result (--json).
        cli::ProgressView log(std::cerr, std::cerr, cli::ProgressView::mode_of(STDERR_FILENO));
        repo::Plan plan = repo::make_plan(options->request(), &log);
        if (*json)
            print_plan_json(plan, std::cout);
        else if (plan.ok())
            print_plan_table(plan, std::cout);
        std::cout.flush();
        if (!plan.ok())
            throw ResolveProblem("dependency problems; nothing would be carried (the update cannot be resolved)",
                                 *json ? std::vector<std::string>{} : plan.problems);
    });
}

}  // namespace airgap::bundler
