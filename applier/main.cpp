// ovirt-applier: the isolated side. Thin: each command lives in its own file.
#include <iostream>

#include "applier/commands.hpp"
#include "repo/cli.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Verify and apply ovirt-airgap bundles on an isolated oVirt 4.3 site", "ovirt-applier"};
    airgap::applier::add_inventory_command(app);
    return airgap::cli::run(app, argc, argv, std::cerr);
}
