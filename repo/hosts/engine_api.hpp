#pragma once
// A small client of the oVirt Engine REST API v4: SSO password
// grant, bearer token, JSON, TLS verified against the Engine's CA only. libcurl stays inside
// engine_api.cpp.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace airgap::repo {

/// How to reach and log in to one Engine.
struct EngineConnection {
    std::string url;                      // https://ENGINE[/ovirt-engine/api]
    std::string user;                     // USER@PROFILE, e.g. admin@internal
    std::filesystem::path password_file;  // first line is the password; never logged
    std::filesystem::path ca_file;        // PEM of the Engine's CA (/etc/pki/ovirt-engine/ca.pem)
    std::chrono::seconds request_timeout{120};
    int retries = 3;  // transport failures of a request before giving up
    std::chrono::milliseconds retry_delay{2000};
};

/// The Engine renders most values as strings ("true", "4294967296"); these accept both
/// forms. A missing key or null gives `fallback`; anything else unparsable throws StepFailed.
bool json_bool(const nlohmann::json& object, const std::string& key, bool fallback = false);
std::int64_t json_int(const nlohmann::json& object, const std::string& key, std::int64_t fallback = 0);
std::string json_string(const nlohmann::json& object, const std::string& key);

/// One logged-in session. Not thread-safe. Construction validates the URL and reads the
/// password file (ConfigError, exit 1) but does not connect; the first call logs in. The
/// destructor logs out (best effort). Move-only.
///
/// Errors: ConfigError for a bad URL, an unreadable password or CA file, a certificate the
/// CA does not trust ("TLS: certificate of ENGINE not trusted by CA.pem"), refused
/// credentials, or an Engine unreachable at the first contact; StepFailed for later
/// transport failures (after `retries`) and for faults the Engine answers with.
class EngineClient {
public:
    explicit EngineClient(EngineConnection connection);
    ~EngineClient();
    EngineClient(EngineClient&&) noexcept;
    EngineClient& operator=(EngineClient&&) noexcept;
    EngineClient(const EngineClient&) = delete;
    EngineClient& operator=(const EngineClient&) = delete;

    /// "https://ENGINE/ovirt-engine/api".
    const std::string& api_url() const;
    /// "ENGINE" or "ENGINE:PORT" as in the URL, for messages.
    const std::string& engine_name() const;

    /// Gets a token from SSO (done automatically by the first request).
    void login();
    /// Revokes the token (SSO logout); never throws.
    void logout() noexcept;

    /// GET api_url/PATH[?search=SEARCH] (PATH like "hosts" or "hosts/ID"). A 401 logs in again
    /// once; transport failures are retried.
    nlohmann::json get(const std::string& path, const std::string& search = {});
    /// The items of a collection: GET PATH?search=SEARCH, then the array under `element`
    /// ("host" for "hosts"); the Engine answers {} when nothing matches.
    std::vector<nlohmann::json> list(const std::string& path, const std::string& element,
                                     const std::string& search = {});
    /// POST api_url/PATH with a JSON body (actions such as "hosts/ID/upgrade"). Retried only
    /// when the request never reached the Engine.
    nlohmann::json post(const std::string& path, const nlohmann::json& body = nlohmann::json::object());

    /// Requests sent since construction (for tests and diagnostics).
    std::size_t request_count() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// --- Typed calls: what the rollout reads and does, parsed here once ---

/// A host's status as the API names it ("up", "install_failed", ...), parsed once.
enum class HostStatus {
    up,
    maintenance,
    preparing_for_maintenance,
    installing,
    install_failed,
    reboot,
    non_responsive,
    non_operational,
    error,
    other,  // any other word (connecting, initializing, unassigned, down, ...): see status_text
};
HostStatus parse_host_status(const std::string& word);

/// A host (GET hosts, hosts/ID).
struct EngineHost {
    std::string id;
    std::string name;
    std::string address;
    HostStatus status = HostStatus::other;
    std::string status_text;  // the API's word, for messages
    bool spm = false;
    bool node = false;  // type "ovirt_node": image based, always rebooted by its upgrade
    std::int64_t max_scheduling_memory = 0;
    bool update_available = false;
};
EngineHost parse_host(const nlohmann::json& host);

/// A VM's status as the API names it, parsed once: the three the rollout waits for.
enum class VmStatus {
    up,
    down,
    migrating,
    other,  // any other word (powering_up, paused, ...): see status_text
};
VmStatus parse_vm_status(const std::string& word);

/// A VM (GET vms?search=host=NAME, vms/ID), with whether host devices are attached.
struct EngineVm {
    enum class Affinity { migratable, user_migratable, pinned };
    std::string id;
    std::string name;
    VmStatus status = VmStatus::other;
    std::string status_text;  // the API's word, for messages
    std::string host_id;      // where it runs, empty when down
    std::int64_t memory = 0;
    Affinity affinity = Affinity::migratable;
    bool host_devices = false;
    std::string mdev_type;  // custom property mdev_type (vGPU), empty if none
    /// Why it cannot migrate at all ("pinned to the host", "host devices", "vGPU mdev_type X"),
    /// empty if it can.
    std::string non_migratable_reason() const;
};
EngineVm parse_vm(const nlohmann::json& vm);

/// One entry of the audit log (GET events). `index` orders them; the model does not promise
/// that `id` does.
struct EngineEvent {
    std::int64_t index = 0;
    int code = 0;
    std::string description;
    std::string host_id;
};
EngineEvent parse_event(const nlohmann::json& event);

/// product_info.version of GET /ovirt-engine/api: 4.3.10.4 is {4, 3, 10, 4}.
struct EngineVersion {
    int major = 0, minor = 0, build = 0, revision = 0;
    bool at_least(int ma, int mi, int bu, int re = 0) const;
    std::string text() const;
};
EngineVersion engine_version(EngineClient& engine);

struct EngineCluster {
    std::string id;
    std::string name;
};
/// The clusters (only the one called `name` when it is not empty).
std::vector<EngineCluster> list_clusters(EngineClient& engine, const std::string& name);
/// The hosts of a cluster (all hosts when `cluster` is empty).
std::vector<EngineHost> list_hosts(EngineClient& engine, const EngineCluster& cluster);
EngineHost get_host(EngineClient& engine, const std::string& id);
/// The VMs running on the host called `name` (not down), with their host devices.
std::vector<EngineVm> running_vms(EngineClient& engine, const std::string& host_name);
EngineVm get_vm(EngineClient& engine, const std::string& id);
/// The index of the newest event (0 if none): what an action is followed from.
std::int64_t newest_event_index(EngineClient& engine);
/// The events after `index`, oldest first.
std::vector<EngineEvent> events_after(EngineClient& engine, std::int64_t index);

/// Host actions. `timeout_min` of the upgrade is sent when set (the Engine reads it from
/// 4.3.6.6 on); the upgrade always asks for the reboot and never sends an image.
void check_host_updates(EngineClient& engine, const std::string& host_id);
void upgrade_host(EngineClient& engine, const std::string& host_id, std::optional<int> timeout_min);
void activate_host_action(EngineClient& engine, const std::string& host_id);
void deactivate_host_action(EngineClient& engine, const std::string& host_id);
/// VM actions; migrate is forced, for user_migratable VMs, and lets the Engine choose the host.
void migrate_vm(EngineClient& engine, const std::string& vm_id);
void shutdown_vm(EngineClient& engine, const std::string& vm_id);
void start_vm(EngineClient& engine, const std::string& vm_id);
/// POST clusters/ID/upgrade {"upgrade_action": "start" | "finish"}.
void cluster_upgrade(EngineClient& engine, const std::string& cluster_id, bool start);

}  // namespace airgap::repo
