#include "bundler/commands.hpp"
#include "repo/error.hpp"

namespace airgap::bundler {

void add_resolve_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("resolve", "Resolve what the isolated machines need");
    cmd->callback([] { throw ConfigError("resolve: not implemented yet"); });
}

}  // namespace airgap::bundler
