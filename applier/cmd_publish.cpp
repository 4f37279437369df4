// `ovirt-applier publish`: the engine serves a verified bundle to its enrolled hosts
// (repo/apply/publish.hpp); `engine --publish` does the same after the engine's own update.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "repo/apply/publish.hpp"

namespace airgap::applier {

void add_keep_option(CLI::App* cmd, unsigned& keep) {
    cmd->add_option("--keep", keep, "Older published bundles kept besides the current one, newest first (default 1)");
}

repo::PublishOptions publish_options(const repo::ApplyOptions& o, unsigned keep) {
    repo::PublishOptions p;
    p.bundle = o.bundle;
    p.trust = o.trust;
    p.base = o.base;
    p.root = o.root;
    p.state_dir = o.state_dir;
    p.keep = keep;
    return p;
}

void add_publish_command(CLI::App& app) {
    auto args = std::make_shared<ApplyArgs>();
    auto keep = std::make_shared<unsigned>(1);
    repo::ApplyOptions& o = args->options;
    auto* cmd = app.add_subcommand(
        "publish", "Publish a verified bundle on the engine for its enrolled hosts (ROOT/var/www/html/ovirt-airgap)");
    cmd->add_option("BUNDLE", o.bundle, "The bundle: an .iso, a .tar or a directory")->required();
    add_trust_option(cmd, o.trust);
    add_base_option(cmd, o.base);
    cmd->add_option("--root", args->root, "Publish on the system installed under DIR instead of this one");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    add_config_option(cmd, args->config);
    add_keep_option(cmd, *keep);
    cmd->callback([args, keep] {
        repo::ApplyOptions options = args->resolved();
        check_can_apply(options, "publish", false);
        cli::ProgressView reporter = applier_view();
        repo::publish_bundle(publish_options(options, *keep), reporter);
    });
}

}  // namespace airgap::applier
