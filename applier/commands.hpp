#pragma once
#include <CLI/CLI.hpp>

#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/publish.hpp"

namespace airgap::applier {

void add_inventory_command(CLI::App& app);
void add_verify_command(CLI::App& app);
void add_engine_command(CLI::App& app);
void add_host_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_hosts_command(CLI::App& app);
void add_publish_command(CLI::App& app);
void add_abandon_command(CLI::App& app);

/// --keep N of `publish` and `engine --publish`.
void add_keep_option(CLI::App* cmd, unsigned& keep);

/// What `engine --publish` and `publish` hand to repo::publish_bundle().
repo::PublishOptions publish_options(const repo::ApplyOptions& options, unsigned keep);

}  // namespace airgap::applier
