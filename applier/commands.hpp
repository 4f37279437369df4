#pragma once
#include <CLI/CLI.hpp>

namespace airgap::applier {

void add_inventory_command(CLI::App& app);

}  // namespace airgap::applier
