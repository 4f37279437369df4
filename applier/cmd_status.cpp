// `ovirt-applier status`: the journal of the last run and the last applied bundle.
#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "repo/enrol.hpp"
#include "repo/held_repos.hpp"
#include "repo/journal.hpp"
#include "repo/publish.hpp"

namespace airgap::applier {

namespace {

struct StatusArgs {
    std::string root;
    std::string state_dir;
    std::string config;
};

}  // namespace

void add_status_command(CLI::App& app) {
    auto args = std::make_shared<StatusArgs>();
    auto* cmd = app.add_subcommand("status", "Show the journal of the last run and the last applied bundle");
    cmd->add_option("--root", args->root, "The target system (state dir ROOT/var/lib/ovirt-airgap)");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    add_config_option(cmd, args->config);
    cmd->callback([args] {
        std::filesystem::path state = state_dir_for(args->state_dir, args->root, site_config(args->config, args->root));
        std::cout << repo::render_status(state);
        // A host staged for the Engine keeps its upstream repos disabled until unstaged.
        for (const auto& line : repo::describe_held_repos(state)) std::cout << line << "\n";
        // The engine's published bundles, and a host's enrolment with them.
        std::filesystem::path root =
            args->root.empty() ? std::filesystem::path() : std::filesystem::absolute(args->root);
        for (const auto& line : repo::describe_published(root)) std::cout << line << "\n";
        for (const auto& line : repo::describe_enrolment(state)) std::cout << line << "\n";
        std::cout << std::flush;
    });
}

}  // namespace airgap::applier
