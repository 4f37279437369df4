// `ovirt-applier verify`: the signature, the manifest, expiry, rollback and every file, nothing
// written.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "repo/apply/bundle_verify.hpp"
#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/status_report.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/state/journal.hpp"

namespace airgap::applier {

namespace {

struct VerifyArgs {
    std::string bundle;
    std::filesystem::path trust;
    std::filesystem::path base;
    std::string root;
    std::string state_dir;
    std::string config;
    bool json = false;
};

void run_verify(const VerifyArgs& args) {
    repo::VerifyOptions options;
    repo::SiteConfig site = site_config(args.config, args.root);
    options.trust = args.trust;
    require_trust(options.trust, site);
    options.base = args.base;
    options.state_dir = state_dir_for(args.state_dir, args.root, site);
    cli::ProgressView progress = applier_view();
    repo::catch_interrupts();  // Ctrl-C stops the hashing at once: exit 130, nothing changed
    repo::VerifiedBundle v = repo::verify_bundle(args.bundle, options, &progress);
    if (args.json) {
        std::cout << repo::verify_json(v).dump(2) << "\n" << std::flush;
        return;
    }
    std::uint64_t bytes = 0;
    for (const auto& f : v.manifest.files) bytes += f.size;
    std::cout << "bundle " << v.manifest.id << " (serial " << v.manifest.serial << ", " << v.manifest.files.size()
              << " files, " << bytes << " bytes, expires " << v.manifest.expires << ") verified\n"
              << "signed by " << v.signer.subject << " (SHA-256 " << v.signer.fingerprint_sha256 << ")\n";
    if (const auto& base = v.manifest.base_bundle) {
        std::uint64_t lent = 0;
        for (const auto& f : base->files) lent += f.size;
        std::string what = std::to_string(base->files.size()) + " files, " + std::to_string(lent) + " bytes";
        if (v.base)
            std::cout << "base bundle " << base->id << " (serial " << base->serial << "): the " << what
                      << " it lends verified\n";
        else
            std::cout << "incremental: " << what << " come from bundle " << base->id << " (serial " << base->serial
                      << "), not checked; give it with --base to check them and to apply this bundle\n";
    }
    std::cout << std::flush;
}

}  // namespace

void add_verify_command(CLI::App& app) {
    auto args = std::make_shared<VerifyArgs>();
    auto* cmd =
        app.add_subcommand("verify", "Verify a bundle's signature, expiry, serial and every file; change nothing");
    cmd->add_option("BUNDLE", args->bundle, "The bundle: an .iso, a .tar or a directory")->required();
    add_trust_option(cmd, args->trust);
    add_base_option(cmd, args->base);
    cmd->add_option("--root", args->root, "The target system (its state dir holds the last applied serial)");
    cmd->add_option("--state-dir", args->state_dir, "State directory (default /var/lib/ovirt-airgap)");
    add_config_option(cmd, args->config);
    cmd->add_flag("--json", args->json, "Print what was verified as JSON (errors stay one line on stderr)");
    cmd->callback([args] { run_verify(*args); });
}

}  // namespace airgap::applier
