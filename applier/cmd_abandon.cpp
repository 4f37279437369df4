// `ovirt-applier abandon`: drop the unfinished run, putting back what it changed (repo/apply/abandon.cpp).
#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "repo/apply/abandon.hpp"

namespace airgap::applier {

namespace {

struct AbandonArgs {
    std::string root;
    std::string state_dir;
    std::string config;
};

}  // namespace

void add_abandon_command(CLI::App& app) {
    auto args = std::make_shared<AbandonArgs>();
    auto* cmd = app.add_subcommand(
        "abandon", "Drop the unfinished run: put back the repo files it changed, remove its staged copy");
    cmd->add_option("--root", args->root, "The target system (state dir ROOT/var/lib/ovirt-airgap)");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    add_config_option(cmd, args->config);
    cmd->callback([args] {
        std::filesystem::path state = state_dir_for(args->state_dir, args->root, site_config(args->config, args->root));
        std::filesystem::path root;
        if (!args->root.empty()) root = std::filesystem::absolute(args->root).lexically_normal();
        repo::abandon_run(root, state, [](const std::string& line) {
            std::cout << "ovirt-applier: " << line << "\n" << std::flush;
        });
    });
}

}  // namespace airgap::applier
