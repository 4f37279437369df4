#pragma once
// The stand-in oVirt Engine for tests (tests/fake_engine/fake_engine.py) run as a child
// process over TLS on 127.0.0.1 with a test CA made by the openssl CLI.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/shared/server_process.hpp"
#include "tests/shared/testkit.hpp"

namespace airgap::test {

/// Starts the stand-in on a free port with `scenario` (see fake_engine.py: clusters, hosts,
/// vms, transition_ms, faults per host) and stops it when destroyed. The login is
/// admin@internal with the password in password_file().
///
///     FakeEngine engine(three_host_scenario());
///     engine.control({{"drop", 2}});   // the next two API requests get no answer
///     engine.log();                    // {"login", "GET hosts?search=...", "POST hosts/host1/upgrade", ...}
class FakeEngine {
public:
    explicit FakeEngine(nlohmann::json scenario);
    FakeEngine(const FakeEngine&) = delete;
    FakeEngine& operator=(const FakeEngine&) = delete;

    /// "https://127.0.0.1:PORT/ovirt-engine/api".
    std::string url() const;
    /// "127.0.0.1:PORT".
    std::string engine() const;
    std::filesystem::path ca_file() const { return dir_.path() / "ca.pem"; }
    /// A CA that did not sign the Engine's certificate.
    std::filesystem::path untrusted_ca_file() const { return dir_.path() / "other-ca.pem"; }
    std::filesystem::path password_file() const { return dir_.path() / "password"; }
    static std::string password() { return "s3cret-Pa55"; }

    /// POST /__control: {"drop": N}, {"drop_all": true}, {"expire_tokens": true},
    /// {"transition_ms": N}, {"hosts": {"host1": {"fault": null}}}; a host with "hold": true
    /// stays in its upgrade's current status until {"hosts": {"host1": {"hold": false}}}, with
    /// "hold": "maintenance" once it reaches that status; {"abandon": true} ends the upgrade
    /// under way. Scenario keys: "version" (product_info, default 4.3.10.4), "flag_delay_ms"
    /// (update_available after 885), per host "type" ("ovirt_node"), "fault" ("install_failed",
    /// "non_responsive", "fast", "no_update", "check_failed", "check_silent"), "check_running",
    /// "check_ms"; per VM "user_migratable", "migration_fails"; per cluster "upgrade_running",
    /// "fault" ("start" or "finish").
    void control(const nlohmann::json& change) const;
    /// GET /__control/log: {"log": [...], "hosts": {name: {status, spm, upgraded, history}}, "vms": ..., "clusters":
    /// ...}.
    nlohmann::json state() const;
    std::vector<std::string> log() const;

    /// argv of `ovirt-applier hosts` against this Engine, with `state_dir`.
    std::vector<std::string> applier(const std::filesystem::path& state_dir) const;

private:
    TempDir dir_;           // certificates, password, scenario: made before the server starts
    ServerProcess server_;  // stopped before dir_ goes
};

/// Three Up hosts in cluster "Default" (host1 the SPM), 32 GiB free each, two migratable
/// 4 GiB VMs on host1 and one on host2, updates available after a check, 100 ms per status.
nlohmann::json three_host_scenario();

/// Lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle);

}  // namespace airgap::test
