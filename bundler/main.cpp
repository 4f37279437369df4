// ovirt-bundler: the connected side. Thin: each command lives in its own file.
#include <iostream>
#include <string>

#include "bundler/commands.hpp"
#include "cli/cli.hpp"
#include "repo/base/version.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Build signed offline update bundles for oVirt 4.3", "ovirt-bundler"};
    airgap::bundler::add_resolve_command(app);
    airgap::bundler::add_keygen_command(app);
    airgap::bundler::add_build_command(app);
    airgap::bundler::add_inspect_command(app);
    app.set_version_flag("--version", std::string("ovirt-bundler ") + airgap::version_text());
    // Commands of the other program, answered with where they live when typed here.
    const airgap::cli::OtherProgram applier{
        "ovirt-applier", {"inventory", "verify", "engine", "host", "status", "hosts", "publish", "abandon"}};
    return airgap::cli::run(app, argc, argv, std::cerr, applier);
}
