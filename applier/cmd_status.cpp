// `ovirt-applier status`: the journal of the last run and the last applied bundle.
#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "repo/apply/enrol.hpp"
#include "repo/apply/held_repos.hpp"
#include "repo/apply/interrupted_child.hpp"
#include "repo/apply/publish.hpp"
#include "repo/apply/status_report.hpp"
#include "repo/state/journal.hpp"

namespace airgap::applier {

namespace {

struct StatusArgs {
    std::string root;
    std::string state_dir;
    std::string config;
    bool json = false;
};

}  // namespace

void add_status_command(CLI::App& app) {
    auto args = std::make_shared<StatusArgs>();
    auto* cmd = app.add_subcommand("status", "Show the journal of the last run and the last applied bundle");
    cmd->add_option("--root", args->root, "The target system (state dir ROOT/var/lib/ovirt-airgap)");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    add_config_option(cmd, args->config);
    cmd->add_flag("--json", args->json,
                  "Print the run, the last applied bundle, a pending reboot, the history, the published bundles and "
                  "the host's enrolment as JSON");
    cmd->callback([args] {
        std::filesystem::path state = state_dir_for(args->state_dir, args->root, site_config(args->config, args->root));
        std::filesystem::path root;
        if (!args->root.empty()) root = std::filesystem::absolute(args->root).lexically_normal();
        if (args->json) {
            std::cout << repo::status_json(root, state).dump(2) << "\n" << std::flush;
            return;
        }
        std::cout << repo::render_status(state);
        // engine-setup (or the package manager) a killed run left at work, before any re-run.
        for (const auto& line : repo::describe_running_child(state)) std::cout << line << "\n";
        // A host staged for the Engine keeps its upstream repos disabled until unstaged.
        for (const auto& line : repo::describe_held_repos(state)) std::cout << line << "\n";
        // The engine's published bundles, and a host's enrolment with them.
        for (const auto& line : repo::describe_published(root)) std::cout << line << "\n";
        for (const auto& line : repo::describe_enrolment(state)) std::cout << line << "\n";
        // The reboot a new kernel needs stays on view until the system runs it; then the history.
        for (const auto& line : repo::status_history_lines(root, state)) std::cout << line << "\n";
        std::cout << std::flush;
    });
}

}  // namespace airgap::applier
