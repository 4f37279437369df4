#include "applier/commands.hpp"
#include "repo/error.hpp"

namespace airgap::applier {

void add_inventory_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("inventory", "Describe this machine's installed packages as plain text");
    cmd->callback([] { throw ConfigError("inventory: not implemented yet"); });
}

}  // namespace airgap::applier
