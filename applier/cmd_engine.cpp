// `ovirt-applier engine`: the chapter-9 update of the engine from a bundle (DESIGN.md
// "Applier: the engine sequence"); the steps live in repo/engine_sequence.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "repo/engine_sequence.hpp"
#include "repo/interrupt.hpp"
#include "repo/journal.hpp"

namespace airgap::applier {

namespace {

// Applier lines and the output of the commands it runs, on stdout as they come.

struct EngineArgs {
    repo::ApplyOptions options;
    std::string root;
    std::string state_dir;
};

}  // namespace

void add_engine_command(CLI::App& app) {
    auto args = std::make_shared<EngineArgs>();
    repo::ApplyOptions& o = args->options;
    auto* cmd = app.add_subcommand("engine", "Update the engine from a bundle (upgrade guide, chapter 9)");
    cmd->add_option("BUNDLE", o.bundle, "The bundle: an .iso, a .tar or a directory")->required();
    cmd->add_option("--trust", o.trust, "PEM certificate (CA or the signer's own) the signature must chain to")
        ->required();
    cmd->add_option("--root", args->root, "Update the system installed under DIR instead of this one");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    cmd->add_flag("--dry-run", o.dry_run, "Print the plan (steps, packages, versions) and change nothing");
    cmd->add_option("--answer-file", o.answer_file, "Extra engine-setup answers (appended before the applier's)");
    cmd->add_flag("--reboot", o.reboot, "Reboot when a newer kernel was installed");
    cmd->add_flag("--he-global-maintenance-confirmed", o.he_global_maintenance_confirmed,
                  "Hosted engine: the cluster is in global maintenance");
    cmd->add_option("--package-manager", o.package_manager, "Package manager command (default yum)");
    cmd->add_option("--engine-upgrade-check", o.engine_upgrade_check, "engine-upgrade-check, inside --root");
    cmd->add_option("--engine-setup", o.engine_setup, "engine-setup, inside --root");
    cmd->callback([args] {
        repo::ApplyOptions options = args->options;
        options.root = args->root;
        options.state_dir = args->state_dir;
        if (options.state_dir.empty()) {
            options.state_dir = repo::Journal::default_state_dir();
            if (!args->root.empty())
                options.state_dir = std::filesystem::path(args->root) / options.state_dir.relative_path();
        }
        repo::StreamReporter reporter(std::cout, std::cerr, isatty(2) != 0);
        repo::catch_interrupts();  // Ctrl-C stops at the next safe point: exit 130, resumable
        repo::run_engine(options, reporter);
    });
}

}  // namespace airgap::applier
