// ovirt-applier: the isolated side. Thin: each command lives in its own file.
#include <iostream>
#include <string>

#include "applier/commands.hpp"
#include "cli/cli.hpp"
#include "repo/base/version.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Verify and apply ovirt-airgap bundles on an isolated oVirt 4.3 site", "ovirt-applier"};
    airgap::applier::add_inventory_command(app);
    airgap::applier::add_verify_command(app);
    airgap::applier::add_engine_command(app);
    airgap::applier::add_host_command(app);
    airgap::applier::add_status_command(app);
    airgap::applier::add_hosts_command(app);
    airgap::applier::add_publish_command(app);
    airgap::applier::add_abandon_command(app);
    app.set_version_flag("--version", std::string("ovirt-applier ") + airgap::version_text());
    // Commands of the other program, answered with where they live when typed here.
    const airgap::cli::OtherProgram bundler{"ovirt-bundler", {"resolve", "keygen", "build", "inspect"}};
    return airgap::cli::run(app, argc, argv, std::cerr, bundler);
}
