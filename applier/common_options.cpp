#include "applier/common_options.hpp"

#include <cstdlib>

#include "repo/journal.hpp"

namespace airgap::applier {

repo::ApplyOptions ApplyArgs::resolved() const {
    repo::ApplyOptions out = options;
    // Absolute: the root is handed to rpm, dnf and scripts that each have their own cwd rules.
    if (!root.empty()) out.root = std::filesystem::absolute(root).lexically_normal();
    out.state_dir = state_dir;
    if (out.state_dir.empty()) {
        out.state_dir = repo::Journal::default_state_dir();
        if (!root.empty()) out.state_dir = std::filesystem::path(root) / out.state_dir.relative_path();
    }
    return out;
}

void add_apply_options(CLI::App* cmd, ApplyArgs& args) {
    repo::ApplyOptions& o = args.options;
    cmd->add_option("BUNDLE", o.bundle, "The bundle: an .iso, a .tar or a directory")->required();
    cmd->add_option("--trust", o.trust, "PEM certificate (CA or the signer's own) the signature must chain to")
        ->required();
    add_base_option(cmd, o.base);
    cmd->add_option("--root", args.root, "Update the system installed under DIR instead of this one");
    cmd->add_option("--state-dir", args.state_dir, "State directory (default /var/lib/ovirt-airgap)");
    cmd->add_flag("--reboot", o.reboot, "Reboot when a newer kernel was installed");
    cmd->add_option("--package-manager", o.package_manager, "Package manager command");
}

void add_base_option(CLI::App* cmd, std::filesystem::path& base) {
    cmd->add_option("--base", base,
                    "For an incremental bundle: the bundle it was built on (ovirt-bundler build --since), whose "
                    "packages it takes");
}

void add_engine_connection_options(CLI::App* cmd, repo::EngineConnection& c, bool required) {
    auto* url = cmd->add_option("--engine-url", c.url, "The Engine's REST API: https://ENGINE/ovirt-engine/api");
    auto* user = cmd->add_option("--user", c.user, "Engine user, USER@PROFILE (e.g. admin@internal)");
    auto* password = cmd->add_option("--password-file", c.password_file, "File whose first line is the password");
    auto* ca = cmd->add_option("--ca-file", c.ca_file, "The Engine's CA certificate (/etc/pki/ovirt-engine/ca.pem)");
    if (required)
        for (auto* option : {url, user, password, ca}) option->required();
}

void apply_poll_override(repo::RolloutOptions& rollout, repo::EngineConnection& connection) {
    if (const char* poll = std::getenv("OVIRT_AIRGAP_POLL_MS")) {
        rollout.poll_interval = std::chrono::milliseconds(std::atol(poll));
        connection.retry_delay = rollout.poll_interval;
    }
}

}  // namespace airgap::applier
