#pragma once
#include <CLI/CLI.hpp>

namespace airgap::applier {

void add_inventory_command(CLI::App& app);
void add_verify_command(CLI::App& app);
void add_engine_command(CLI::App& app);
void add_host_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_hosts_command(CLI::App& app);
void add_abandon_command(CLI::App& app);

}  // namespace airgap::applier
