// ovirt-bundler build: resolve, fetch, check, assemble, prove, sign, pack (DESIGN.md "Bundle").
// Thin: the work is repo::build_bundle; this file parses options and draws progress.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "bundler/commands.hpp"
#include "bundler/plan_options.hpp"
#include "bundler/report.hpp"
#include "repo/bundle_build.hpp"
#include "repo/interrupt.hpp"

namespace airgap::bundler {

namespace {

struct BuildOptions {
    PlanOptions plan;
    std::string sign_key;
    std::string sign_cert;
    std::string output;
    std::uint64_t serial = 0;
    bool serial_set = false;
    int expires_days = 90;
    std::string since;
    int jobs = 4;
    std::string with_applier;
    std::string sign_repodata;
};

// Progress on stderr: a redrawn line on a terminal (rate-limited), plain log lines otherwise.
class BuildProgress : public repo::BuildCallbacks {
public:
    explicit BuildProgress(std::ostream& err) : err_(err), tty_(isatty(STDERR_FILENO) == 1) {}

    void message(const std::string& line) override {
        end_line();
        err_ << line << "\n";
    }

    bool download(std::uint64_t done_bytes, std::uint64_t total_bytes, std::size_t done_files,
                  std::size_t total_files) override {
        auto now = Clock::now();
        if (!started_) {
            started_ = true;
            start_ = now;
        }
        bool finished = done_files == total_files;
        if (tty_) {
            if (!finished && now - last_ < std::chrono::milliseconds(200)) return true;
            last_ = now;
            double secs = std::chrono::duration<double>(now - start_).count();
            double rate = secs > 0 ? static_cast<double>(done_bytes) / secs : 0;
            std::ostringstream line;
            line << "downloading " << done_files << "/" << total_files << " packages, " << human_size(done_bytes)
                 << " of " << human_size(total_bytes) << ", " << human_size(static_cast<std::uint64_t>(rate)) << "/s";
            if (rate > 0 && total_bytes > done_bytes)
                line << ", " << static_cast<long>(static_cast<double>(total_bytes - done_bytes) / rate) << " s left";
            err_ << "\r" << line.str() << "\033[K" << std::flush;
            drawn_ = true;
            if (finished) end_line();
        } else if (done_files != logged_files_ && (done_files > 0 || finished) &&
                   (finished || now - last_ >= std::chrono::seconds(5))) {
            last_ = now;
            logged_files_ = done_files;
            err_ << "downloaded " << done_files << "/" << total_files << " packages (" << human_size(done_bytes)
                 << ")\n";
        }
        return true;
    }

    bool cancelled() override { return repo::interrupted(); }

    bool pack(std::uint64_t done, std::uint64_t total) override {
        if (!tty_) return true;
        auto now = Clock::now();
        if (done < total && now - last_ < std::chrono::milliseconds(200)) return true;
        last_ = now;
        err_ << "\rpacking " << human_size(done) << " of " << human_size(total) << "\033[K" << std::flush;
        drawn_ = true;
        if (done >= total) end_line();
        return true;
    }

private:
    using Clock = std::chrono::steady_clock;
    void end_line() {
        if (drawn_) err_ << "\n";
        drawn_ = false;
    }
    std::ostream& err_;
    bool tty_;
    bool drawn_ = false;
    bool started_ = false;
    std::size_t logged_files_ = static_cast<std::size_t>(-1);
    Clock::time_point start_{};
    Clock::time_point last_{};
};

void run_build(const BuildOptions& opt) {
    repo::BuildRequest request;
    request.plan = opt.plan.request();
    request.sign_key = opt.sign_key;
    request.sign_cert = opt.sign_cert;
    request.output = opt.output;
    if (opt.serial_set) request.serial = opt.serial;
    request.expires_days = opt.expires_days;
    request.since = opt.since;
    request.jobs = opt.jobs;
    request.with_applier = opt.with_applier;
    request.sign_repodata = opt.sign_repodata;
    BuildProgress progress(std::cerr);
    // SIGINT/SIGTERM end the build at the next step or progress call, so that the temporary tree
    // and archive are removed (a default signal death would leave them beside the output).
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
    cmd->add_option("-o,--output", opt->output, "OUT.iso, OUT.tar or a directory; must not exist")->required();
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
    cmd->add_option("--with-applier", opt->with_applier,
                    "ovirt-applier's EL7 RPM (scripts/package-el7.sh) to carry as applier/NAME.rpm, hashed in bundle.json");
    cmd->add_option("--sign-repodata", opt->sign_repodata,
                    "Exported GnuPG secret key file (gpg --export-secret-keys) that signs each repo's repomd.xml "
                    "(repomd.xml.asc), so hosts can set repo_gpgcheck=1");
    cmd->callback([opt] { run_build(*opt); });
}

}  // namespace airgap::bundler
