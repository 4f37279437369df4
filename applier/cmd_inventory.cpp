// `ovirt-applier inventory`: the plain-text description of this machine that leaves the site.
#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "repo/solv/inventory.hpp"
#include "repo/state/atomic_file.hpp"

namespace airgap::applier {

namespace {

struct InventoryArgs {
    std::string role;
    std::string root;
    std::string output;
};

void run_inventory(const InventoryArgs& args) {
    repo::InventoryOptions options;
    options.role = args.role;
    options.root = args.root;
    std::string text = repo::make_inventory(options);
    if (args.output.empty() || args.output == "-") {
        std::cout << text << std::flush;
    } else {
        repo::write_file_atomic(args.output, text);
    }
}

}  // namespace

void add_inventory_command(CLI::App& app) {
    auto args = std::make_shared<InventoryArgs>();
    auto* cmd = app.add_subcommand("inventory", "Describe this machine's installed packages as plain text");
    cmd->add_option("--role", args->role, "What this machine is: engine, host or node (default on an oVirt Node: node)")
        ->check(CLI::IsMember(repo::inventory_roles()));
    cmd->add_option("--root", args->root, "Describe the system installed under DIR instead of this one");
    cmd->add_option("-o,--output", args->output, "Write the inventory to FILE (atomically) instead of stdout");
    cmd->callback([args] { run_inventory(*args); });
}

}  // namespace airgap::applier
