// `ovirt-applier host`: stage a bundle for the Engine's host upgrade manager, or (--update)
// update this host from it (DESIGN.md "Applier: hosts").
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "repo/engine_sequence.hpp"
#include "repo/error.hpp"
#include "repo/journal.hpp"

namespace airgap::applier {

namespace {

struct HostArgs {
    repo::ApplyOptions options;
    std::string root;
    std::string state_dir;
    std::string engine_url, user, password_file, ca_file;
};

}  // namespace

void add_host_command(CLI::App& app) {
    auto args = std::make_shared<HostArgs>();
    repo::ApplyOptions& o = args->options;
    auto* cmd = app.add_subcommand("host", "Stage a bundle on this host, or update the host from it (--update)");
    cmd->add_option("BUNDLE", o.bundle, "The bundle: an .iso, a .tar or a directory")->required();
    cmd->add_option("--trust", o.trust, "PEM certificate (CA or the signer's own) the signature must chain to")
        ->required();
    cmd->add_option("--root", args->root, "The system installed under DIR instead of this one");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    cmd->add_flag("--update", o.host_update, "Update this host now (yum update from the bundle, reboot notice)");
    cmd->add_flag("--dry-run", o.dry_run, "Print the plan and change nothing");
    cmd->add_flag("--reboot", o.reboot, "Reboot when a newer kernel was installed");
    cmd->add_option("--package-manager", o.package_manager, "Package manager command (default yum)");
    cmd->add_option("--engine-url", args->engine_url, "Engine REST API to move this host into maintenance");
    cmd->add_option("--user", args->user, "Engine user");
    cmd->add_option("--password-file", args->password_file, "File holding the engine user's password");
    cmd->add_option("--ca-file", args->ca_file, "The engine's CA certificate");
    cmd->callback([args] {
        if (!args->engine_url.empty() || !args->user.empty() || !args->password_file.empty() || !args->ca_file.empty())
            throw ConfigError(
                "host --engine-url (maintenance and activation through the Engine) is not implemented yet");
        repo::ApplyOptions options = args->options;
        options.root = args->root;
        options.state_dir = args->state_dir;
        if (options.state_dir.empty()) {
            options.state_dir = repo::Journal::default_state_dir();
            if (!args->root.empty())
                options.state_dir = std::filesystem::path(args->root) / options.state_dir.relative_path();
        }
        repo::StreamReporter reporter(std::cout, std::cerr, isatty(2) != 0);
        repo::run_host(options, reporter);
    });
}

}  // namespace airgap::applier
