// ovirt-bundler build: resolve, fetch, check, assemble, prove, sign, pack (docs/bundle-format.md).
// Thin: the work is repo::build_bundle, the progress cli/progress_view; this file parses options.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "bundler/commands.hpp"
#include "bundler/plan_options.hpp"
#include "bundler/report.hpp"
#include "cli/progress_view.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/base/secret_file.hpp"
#include "repo/bundle/bundle_build.hpp"

namespace airgap::bundler {

namespace {

struct BuildOptions {
    PlanOptions plan;
    std::string sign_key;
    std::string sign_cert;
    std::string sign_pass_file;
    std::string output;
    std::uint64_t serial = 0;
    bool serial_set = false;
    int expires_days = 90;
    std::string since;
    int jobs = 4;
    repo::TransferLimits transfer;
    std::string with_applier;
    std::vector<std::string> allow_missing_repos;
    std::string sign_repodata;
};

void run_build(const BuildOptions& opt) {
    repo::BuildRequest request;
    request.plan = opt.plan.request();
    request.sign_key = opt.sign_key;
    request.sign_cert = opt.sign_cert;
    if (!opt.sign_pass_file.empty()) request.sign_passphrase = repo::read_secret_file(opt.sign_pass_file, "passphrase");
    request.output = opt.output;
    if (opt.serial_set) request.serial = opt.serial;
    request.expires_days = opt.expires_days;
    request.since = opt.since;
    request.jobs = opt.jobs;
    request.transfer = opt.transfer;
    request.with_applier = opt.with_applier;
    request.allow_missing_repos = opt.allow_missing_repos;
    request.sign_repodata = opt.sign_repodata;
    // SIGINT/SIGTERM end the build at the next step or progress call, so that the temporary tree
    // and archive are removed (a default signal death would leave them beside the output); the
    // packages downloaded so far stay in the cache and partial ones are resumed by the next run.
    cli::ProgressView::Options view;
    view.cancelled = repo::interrupted;
    cli::ProgressView progress(std::cerr, std::cerr, cli::ProgressView::mode_of(STDERR_FILENO), view);
    repo::catch_interrupts();
    repo::BuildResult result = repo::build_bundle(request, &progress);
    const auto& m = result.manifest;
    std::cout << "bundle " << m.id << " serial " << m.serial << ": " << m.packages.size() << " packages in "
              << m.repos.size() << " repos, " << human_size(result.payload_bytes) << "\n";
    if (m.base_bundle)
        std::cout << "incremental: " << m.base_bundle->files.size() << " of the packages come from bundle "
                  << m.base_bundle->id << " (serial " << m.base_bundle->serial << "); apply with --base\n";
    std::cout << "expires " << m.expires << "\n"
              << "written to " << result.output.string() << "\n";
}

}  // namespace

void add_build_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("build", "Resolve, fetch, sign and pack an offline update bundle");
    auto opt = std::make_shared<BuildOptions>();
    add_plan_options(cmd, opt->plan);
    cmd->add_option("--sign-key", opt->sign_key, "PEM private key that signs bundle.json")->required();
    cmd->add_option("--sign-cert", opt->sign_cert, "PEM certificate of the signing key (embedded in the signature)")
        ->required();
    cmd->add_option("--sign-pass-file", opt->sign_pass_file,
                    "File whose first line is the passphrase of a protected --sign-key");
    cmd->add_option("-o,--output", opt->output, "OUT.iso, OUT.tar or a directory OUTDIR/ (trailing /); must not exist")
        ->required();
    cmd->add_option_function<std::uint64_t>(
        "--serial",
        [opt](const std::uint64_t& v) {
            opt->serial = v;
            opt->serial_set = true;
        },
        "Bundle serial (anti-rollback); default: creation time in seconds");
    cmd->add_option("--expires-days", opt->expires_days, "Days until the bundle expires")->capture_default_str();
    cmd->add_option(
        "--since", opt->since,
        "A bundle built before: leave out the packages it carries (an incremental bundle, applied with --base)");
    cmd->add_option("--jobs", opt->jobs, "Parallel downloads")->capture_default_str();
    cmd->add_option("--timeout", opt->transfer.timeout_s,
                    "Seconds a download may stall (under 1000 bytes/s) or take to connect before it is tried again")
        ->capture_default_str();
    cmd->add_option("--retries", opt->transfer.retries,
                    "Failed downloads a mirror may have beyond the first before it is given up (other mirrors are "
                    "tried as well)")
        ->capture_default_str();
    cmd->add_option(
        "--with-applier", opt->with_applier,
        "ovirt-applier's EL7 RPM (scripts/package-el7.sh) to carry as applier/NAME.rpm, hashed in bundle.json");
    cmd->add_option("--allow-missing-repo", opt->allow_missing_repos,
                    "A repo (id) that may be left out of this bundle when it cannot be reached; repeatable");
    cmd->add_option("--sign-repodata", opt->sign_repodata,
                    "Exported GnuPG secret key file (gpg --export-secret-keys) that signs each repo's repomd.xml "
                    "(repomd.xml.asc), so hosts can set repo_gpgcheck=1");
    cmd->callback([opt] { run_build(*opt); });
}

}  // namespace airgap::bundler
