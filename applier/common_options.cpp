#include "applier/common_options.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "repo/apply/engine_sequence.hpp"
#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/base/target.hpp"
#include "repo/state/journal.hpp"

namespace airgap::applier {

namespace {

std::string where(const repo::SiteConfig& site) {
    return site.file().empty() ? repo::SiteConfig::default_file("").string() : site.file().string();
}

}  // namespace

repo::SiteConfig ApplyArgs::site() const { return site_config(config, root); }

repo::ApplyOptions ApplyArgs::resolved(bool need_trust) const {
    repo::ApplyOptions out = options;
    // Absolute: the root is handed to rpm, dnf and scripts that each have their own cwd rules.
    if (!root.empty()) out.root = std::filesystem::absolute(root).lexically_normal();
    repo::SiteConfig defaults = site();
    if (need_trust) require_trust(out.trust, defaults);
    out.state_dir = state_dir_for(state_dir, root, defaults);
    return out;
}

repo::SiteConfig site_config(const std::string& config, const std::string& root) {
    std::filesystem::path absolute_root;
    if (!root.empty()) absolute_root = std::filesystem::absolute(root).lexically_normal();
    if (!config.empty()) return repo::SiteConfig::load(config, absolute_root, true);
    return repo::SiteConfig::load(repo::SiteConfig::default_file(absolute_root), absolute_root, false);
}

std::filesystem::path state_dir_for(const std::string& state_dir, const std::string& root,
                                    const repo::SiteConfig& site) {
    std::filesystem::path out = state_dir;
    site.fill(out, "state-dir");
    if (out.empty()) out = repo::Target(root).state_dir();
    return out;
}

void require_trust(std::filesystem::path& trust, const repo::SiteConfig& site) {
    site.fill(trust, "trust");
    if (trust.empty()) throw ConfigError("--trust is required (or 'trust = CERT' in " + where(site) + ")");
}

void fill_engine_connection(repo::EngineConnection& c, const repo::SiteConfig& site) {
    site.fill(c.url, "engine-url");
    site.fill(c.user, "user");
    site.fill(c.password_file, "password-file");
    site.fill(c.ca_file, "ca-file");
}

void require_engine_connection(const repo::EngineConnection& c, const repo::SiteConfig& site) {
    const std::pair<const char*, bool> given[] = {{"engine-url", !c.url.empty()},
                                                  {"user", !c.user.empty()},
                                                  {"password-file", !c.password_file.empty()},
                                                  {"ca-file", !c.ca_file.empty()}};
    for (const auto& [key, ok] : given)
        if (!ok)
            throw ConfigError(std::string("--") + key + " is required (or '" + key + " = ...' in " + where(site) + ")");
}

void check_can_apply(const repo::ApplyOptions& options, const std::string& command, bool uses_package_manager) {
    if (repo::Target(options.root).is_this_system() && !options.dry_run && ::geteuid() != 0)
        throw ConfigError("ovirt-applier " + command +
                          " changes this system: run it as root (or give --root DIR for a system installed in DIR)");
    // A dry run only plans: it never starts the package manager, so a machine without one (the
    // packaged applier in an otherwise empty root, say) can still show its plan.
    if (!uses_package_manager || options.dry_run) return;
    repo::require_package_manager(options);
}

void add_config_option(CLI::App* cmd, std::string& config) {
    cmd->add_option("--config", config,
                    "Site defaults for --trust, --engine-url, --user, --password-file, --ca-file and --state-dir "
                    "(default /etc/ovirt-airgap/applier.conf, inside --root)");
}

void add_apply_options(CLI::App* cmd, ApplyArgs& args) {
    repo::ApplyOptions& o = args.options;
    cmd->add_option("BUNDLE", o.bundle, "The bundle: an .iso, a .tar or a directory")->required();
    add_trust_option(cmd, o.trust);
    add_base_option(cmd, o.base);
    cmd->add_option("--root", args.root, "Update the system installed under DIR instead of this one");
    cmd->add_option("--state-dir", args.state_dir, "State directory (default /var/lib/ovirt-airgap)");
    cmd->add_flag("--reboot", o.reboot, "Reboot when a newer kernel was installed");
    cmd->add_option("--package-manager", o.package_manager, "Package manager command");
    add_config_option(cmd, args.config);
}

void add_trust_option(CLI::App* cmd, std::filesystem::path& trust) {
    cmd->add_option("--trust", trust,
                    "PEM certificate (CA or the signer's own) the signature must chain to (default: the site "
                    "config's trust)");
}

void add_base_option(CLI::App* cmd, std::filesystem::path& base) {
    cmd->add_option("--base", base,
                    "For an incremental bundle: the bundle it was built on (ovirt-bundler build --since), whose "
                    "packages it takes");
}

void add_engine_connection_options(CLI::App* cmd, repo::EngineConnection& c) {
    cmd->add_option("--engine-url", c.url, "The Engine's REST API: https://ENGINE/ovirt-engine/api");
    cmd->add_option("--user", c.user, "Engine user, USER@PROFILE (e.g. admin@internal)");
    cmd->add_option("--password-file", c.password_file, "File whose first line is the password");
    cmd->add_option("--ca-file", c.ca_file, "The Engine's CA certificate (/etc/pki/ovirt-engine/ca.pem)");
}

void apply_poll_override(repo::RolloutOptions& rollout, repo::EngineConnection& connection) {
    if (const char* poll = std::getenv("OVIRT_AIRGAP_POLL_MS")) {
        rollout.poll_interval = std::chrono::milliseconds(std::atol(poll));
        connection.retry_delay = rollout.poll_interval;
    }
}

cli::ProgressView applier_view() {
    cli::ProgressView::Options o;
    o.prefix = "ovirt-applier: ";
    o.cancelled = repo::interrupted;
    return cli::ProgressView(std::cout, std::cerr, cli::ProgressView::mode_of(STDERR_FILENO), o);
}

}  // namespace airgap::applier
