// `ovirt-applier engine`: the chapter-9 update of the engine from a bundle (docs/journal.md lists
// its steps); the steps live in repo/apply/engine_sequence.cpp.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "applier/syslog_sink.hpp"
#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/publish.hpp"
#include "repo/base/interrupt.hpp"

namespace airgap::applier {

void add_engine_command(CLI::App& app) {
    auto args = std::make_shared<ApplyArgs>();
    auto publish = std::make_shared<bool>(false);
    auto keep = std::make_shared<unsigned>(1);
    repo::ApplyOptions& o = args->options;
    auto* cmd = app.add_subcommand("engine", "Update the engine from a bundle (upgrade guide, chapter 9)");
    add_apply_options(cmd, *args);
    cmd->add_flag("--dry-run", o.dry_run, "Print the plan (steps, packages, versions) and change nothing");
    cmd->add_option("--answer-file", o.answer_file,
                    "The administrator's engine-setup answers; they win over the applier's");
    cmd->add_flag("--he-global-maintenance-confirmed", o.he_global_maintenance_confirmed,
                  "Hosted engine: skip the applier's check of the engine database for global maintenance");
    cmd->add_option("--engine-upgrade-check", o.engine_upgrade_check, "engine-upgrade-check, inside --root");
    cmd->add_option("--engine-setup", o.engine_setup, "engine-setup, inside --root");
    cmd->add_flag("--publish", *publish,
                  "Then publish the bundle for the enrolled hosts under /var/www/html/ovirt-airgap (see publish)");
    add_keep_option(cmd, *keep);
    cmd->callback([args, publish, keep] {
        repo::ApplyOptions options = args->resolved();
        check_can_apply(options, "engine", true);
        cli::ProgressView reporter = applier_view();
        repo::catch_interrupts();  // Ctrl-C stops at the next safe point: exit 130, resumable
        SyslogStepSink syslog_sink;
        options.step_sink = &syslog_sink;
        // A bundle with nothing for the hosts is refused with the bundle's checks, before the
        // engine's update, not after it.
        options.publish = *publish;
        repo::run_engine(options, reporter);
        // Only after the engine's own update succeeded: the hosts follow the engine.
        if (*publish && options.dry_run)
            reporter.message("dry run: would publish the bundle at " + repo::publish_dir(options.root).string());
        else if (*publish)
            repo::publish_bundle(publish_options(options, *keep), reporter);
    });
}

}  // namespace airgap::applier
