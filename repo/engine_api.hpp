#pragma once
// A small client of the oVirt Engine REST API v4 (DESIGN.md "Applier: hosts"): SSO password
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

}  // namespace airgap::repo
