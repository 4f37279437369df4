#pragma once
// bundle.json (docs/bundle-format.md): what a bundle holds, signed by the bundler and checked
// by the applier. The signature is verified over the exact bytes first (elsewhere); this
// parser then validates the shape strictly, before anything uses a single field.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/base/rfc3339.hpp"

namespace airgap::repo {

/// The highest serial a bundle may carry (2^53-1, exact in every JSON reader): far above any
/// date-based serial, and low enough that a newer bundle can always follow.
constexpr std::uint64_t kMaxBundleSerial = (std::uint64_t{1} << 53) - 1;

/// The value of "format"; a reader refuses any other.
inline constexpr const char* kBundleFormat = "ovirt-airgap-bundle/1";

/// One bundle repo: `path` is its directory inside the bundle (e.g. "repos/ovirt-4.3",
/// holding Packages/ and repodata/); `gpgkeys` are bundle paths (e.g. "keys/RPM-GPG-ovirt-4.3"),
/// each also listed in `files`.
struct BundleRepo {
    std::string id;  // yum repo id: letters, digits, '-', '_', '.', ':'
    std::string name;
    std::string path;
    std::vector<std::string> gpgkeys;
    bool operator==(const BundleRepo& o) const {
        return id == o.id && name == o.name && path == o.path && gpgkeys == o.gpgkeys;
    }
};

/// Every file of the bundle except bundle.json and bundle.json.p7s.
struct BundleFile {
    std::string path;  // relative, '/'-separated, no '.', '..' or empty components
    std::uint64_t size = 0;
    std::string sha256;  // 64 lowercase hex digits
    bool operator==(const BundleFile& o) const { return path == o.path && size == o.size && sha256 == o.sha256; }
};

/// One package: `path` is listed in `files` (or, in an incremental bundle, in
/// `base_bundle.files`) and lies under its repo's `path`.
struct BundlePackage {
    std::string path;
    std::string nevra;   // name-[epoch:]version-release.arch
    std::string repo;    // a BundleRepo id
    std::string reason;  // why it is carried (e.g. "update", "root", "rollback"), free text
    bool operator==(const BundlePackage& o) const {
        return path == o.path && nevra == o.nevra && repo == o.repo && reason == o.reason;
    }
};

/// The bundle an incremental bundle was built against (`build --since`). The incremental
/// bundle's repodata describe every package; the packages the base carries already are not on
/// the incremental medium but listed here, pinned by size and SHA-256 in this (signed)
/// manifest, and taken from the base medium when staging. The base's own signature and expiry
/// do not matter then: its bundle.json is identified by its SHA-256, and each file it lends
/// is checked against the hashes here.
struct BaseBundle {
    std::string id;
    std::uint64_t serial = 0;
    std::string manifest_sha256;    // of the base's bundle.json bytes
    std::vector<BundleFile> files;  // taken from the base; same paths there; disjoint from `files`
    bool operator==(const BaseBundle& o) const {
        return id == o.id && serial == o.serial && manifest_sha256 == o.manifest_sha256 && files == o.files;
    }
};

/// role ("engine", "host", "node") -> package name -> "version-release" it updates to.
using TargetVersions = std::map<std::string, std::map<std::string, std::string>>;

/// bundle.json. JSON keys are the member names, except `source_manifest` and `base_bundle`
/// (omitted when absent).
struct BundleManifest {
    std::string format = kBundleFormat;
    std::string id;                  // UUID v4, lowercase (new_bundle_id())
    std::uint64_t serial = 0;        // monotonic; anti-rollback compares it (check_serial)
    std::string created;             // RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (format_rfc3339)
    std::string expires;             // same; after `created`
    std::string source_manifest;     // the input manifest's `name`, e.g. "ovirt-4.3-el7"
    std::vector<std::string> roles;  // subset of engine, host, node; no duplicates
    TargetVersions target_versions;  // keys are among `roles`
    std::vector<BundleRepo> repos;
    std::vector<BundleFile> files;
    std::vector<BundlePackage> packages;
    std::optional<BaseBundle> base_bundle;  // its serial is lower than `serial`
    bool operator==(const BundleManifest& o) const;
};

/// nlohmann glue. to_json sorts (files, packages by path; repos by id; roles), so equal
/// manifests give equal JSON. from_json is strict: throws BundleRefused
/// "bad bundle manifest: <what>" naming the field, e.g. "files[3].path "../x" contains '..'".
void to_json(nlohmann::json& j, const BundleManifest& m);
void from_json(const nlohmann::json& j, BundleManifest& m);

/// The exact bytes to write as bundle.json and to sign: sorted, 2-space indent, UTF-8,
/// trailing newline. Validates first (a bundler never writes a manifest a reader refuses).
std::string serialize_bundle_manifest(const BundleManifest& m);

/// Parses and validates bundle.json's bytes (after the signature check). Refuses invalid
/// JSON, duplicate keys, unknown keys, and everything from_json refuses (BundleRefused).
BundleManifest parse_bundle_manifest(std::string_view json_text);

/// Why `path` is not a safe relative bundle path ("is absolute", "contains '..'", ...), or
/// nullopt when it is safe. Also for archive entries before extraction.
std::optional<std::string> unsafe_path_reason(std::string_view path);

/// BundleRefused "bundle expired on EXPIRES" when `now` is at or after `expires`, and
/// "bundle created on CREATED, in the future: ..." when `created` is more than an hour after `now`.
void check_not_expired(const BundleManifest& m, std::chrono::system_clock::time_point now);

/// BundleRefused "bundle serial N is not newer than the last applied serial M (rollback
/// refused)" when `last_applied` is set and not lower than the manifest's serial.
void check_serial(const BundleManifest& m, std::optional<std::uint64_t> last_applied);

/// Whether `s` has the shape of a bundle id: a lowercase UUID.
bool is_bundle_id(std::string_view s);

/// A fresh random UUID v4 (OpenSSL's RAND_bytes), lowercase.
std::string new_bundle_id();

}  // namespace airgap::repo
