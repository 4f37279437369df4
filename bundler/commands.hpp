#pragma once
#include <CLI/CLI.hpp>

namespace airgap::bundler {

void add_resolve_command(CLI::App& app);
void add_keygen_command(CLI::App& app);
void add_build_command(CLI::App& app);
void add_inspect_command(CLI::App& app);

}  // namespace airgap::bundler
