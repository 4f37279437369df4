// `ovirt-applier host`: stage a bundle for the Engine's host upgrade manager, or (--update)
// update this host from it; with --engine-url, appendix C:
// Maintenance through the Engine, the update, the reboot, activation.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "applier/commands.hpp"
#include "applier/common_options.hpp"
#include "applier/syslog_sink.hpp"
#include "repo/apply/engine_sequence.hpp"
#include "repo/apply/enrol.hpp"
#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/base/target.hpp"
#include "repo/hosts/engine_api.hpp"
#include "repo/hosts/host_rollout.hpp"

namespace airgap::applier {

namespace {

struct HostArgs : ApplyArgs {
    bool unstage = false;
    bool unenrol = false;
    std::string from_engine;
    std::string host_name;
    repo::EngineConnection connection;
};

// The name this machine goes by: the target's /etc/hostname under --root, else the kernel's.
std::string own_hostname(const std::string& root) {
    std::string name = repo::Target(root).hostname();
    if (name.empty()) throw ConfigError("cannot tell this machine's hostname: give --host-name");
    return name;
}

class EngineMaintenance : public repo::HostMaintenance {
public:
    EngineMaintenance(repo::EngineConnection connection, std::string host, repo::RolloutOptions options,
                      repo::Reporter& reporter)
        : engine_(std::move(connection)), host_(std::move(host)), options_(std::move(options)), reporter_(reporter) {}
    std::string find_host() override { return repo::engine_host_name(engine_, host_); }
    void deactivate(const std::string& name) override { repo::deactivate_host(engine_, name, options_, reporter_); }
    void activate(const std::string& name) override { repo::activate_host(engine_, name, options_, reporter_); }

private:
    repo::EngineClient engine_;
    std::string host_;
    repo::RolloutOptions options_;
    // The Engine's lines go where the sequence's own lines go.
    repo::Reporter& reporter_;
};

// --from-engine URL and --unenrol: the host follows what the engine publishes.
void enrol(const HostArgs& args, const repo::ApplyOptions& options, repo::Reporter& reporter) {
    if (!args.from_engine.empty() && args.unenrol) throw ConfigError("--from-engine and --unenrol exclude each other");
    if (!options.bundle.empty() || options.host_update || args.unstage || !args.connection.url.empty())
        throw ConfigError(std::string(args.unenrol ? "--unenrol" : "--from-engine") +
                          " takes no BUNDLE, --update, --unstage or --engine-url");
    if (args.unenrol) return repo::unenrol_host(options.state_dir, reporter);
    repo::EnrolOptions e;
    e.url = args.from_engine;
    e.ca_file = args.connection.ca_file;
    args.site().fill(e.ca_file, "ca-file");
    e.trust = options.trust;
    e.root = options.root;
    e.state_dir = options.state_dir;
    repo::enrol_host(e, reporter);
}

}  // namespace

void add_host_command(CLI::App& app) {
    auto args = std::make_shared<HostArgs>();
    repo::ApplyOptions& o = args->options;
    repo::EngineConnection& c = args->connection;
    auto* cmd = app.add_subcommand("host", "Stage a bundle on this host, or update the host from it (--update)");
    add_apply_options(cmd, *args);
    cmd->add_flag("--update", o.host_update, "Update this host now (yum update from the bundle, reboot notice)");
    cmd->add_flag("--dry-run", o.dry_run, "Print the plan and change nothing");
    bool* unstage = &args->unstage;
    cmd->add_flag("--unstage", *unstage,
                  "Remove the staged bundle and give the host's upstream repos back as they were");
    cmd->add_option("--from-engine", args->from_engine,
                    "Enrol this host with the bundles the engine publishes: https://ENGINE/ovirt-airgap/ (with "
                    "--ca-file, the engine's CA, and --trust)");
    cmd->add_flag("--unenrol", args->unenrol,
                  "Remove the enrolment's repo files and give the host's upstream repos back as they were");
    // --unstage needs neither a bundle nor a trust anchor.
    cmd->get_option("BUNDLE")->required(false);
    cmd->get_option("--trust")->required(false);
    cmd->add_flag("--host-in-maintenance", o.host_in_maintenance,
                  "With --update and no --engine-url: the Engine has this host in Maintenance (its VMs are gone)");
    // With --update: the Engine moves this host into Maintenance and activates it (appendix C).
    add_engine_connection_options(cmd, c);
    cmd->add_option(
        "--host-name", args->host_name,
        "This host's name or address in the Engine (default: the hostname; under --root, its etc/hostname)");
    cmd->callback([args] {
        // --unstage and --unenrol need no trust anchor: they only give back what was held.
        repo::ApplyOptions options = args->resolved(!args->unstage && !args->unenrol);
        check_can_apply(options, "host", options.host_update);
        cli::ProgressView reporter = applier_view();
        if (!args->from_engine.empty() || args->unenrol) return enrol(*args, options, reporter);
        if (args->unstage) {
            if (!options.bundle.empty() || options.host_update || !args->connection.url.empty())
                throw ConfigError("--unstage takes no BUNDLE, --update or --engine-url");
            return repo::unstage_host(options, reporter);
        }
        if (options.bundle.empty()) throw ConfigError("host needs BUNDLE (or --unstage)");
        repo::EngineConnection c = args->connection;
        // Only an update goes through the Engine: staging must not reach out to it because the
        // site config names one.
        if (options.host_update) fill_engine_connection(c, args->site());
        std::optional<EngineMaintenance> maintenance;
        if (!c.url.empty()) {
            if (c.user.empty() || c.password_file.empty() || c.ca_file.empty())
                throw ConfigError("--engine-url needs --user, --password-file and --ca-file");
            std::string host = args->host_name.empty() ? own_hostname(args->root) : args->host_name;
            repo::RolloutOptions rollout;
            repo::EngineConnection connection = c;
            apply_poll_override(rollout, connection);
            maintenance.emplace(std::move(connection), host, rollout, reporter);
            options.maintenance = &*maintenance;
        } else if (!c.user.empty() || !c.password_file.empty() || !c.ca_file.empty() || !args->host_name.empty()) {
            throw ConfigError("--user, --password-file, --ca-file and --host-name go with --engine-url");
        }
        repo::catch_interrupts();
        SyslogStepSink syslog_sink;
        options.step_sink = &syslog_sink;
        repo::run_host(options, reporter);
    });
}

}  // namespace airgap::applier
