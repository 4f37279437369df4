#pragma once
// Reading a bundle back without verifying it: `ovirt-bundler inspect`, and `build --since`,
// which needs the bundle.json of the bundle it builds on. Trust is the applier's business
// (`ovirt-applier verify`); nothing here checks a signature.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

/// bundle.json's bytes from a bundle (directory, .iso or .tar), unverified. ConfigError when
/// `bundle` is missing or has no bundle.json; BundleRefused for an unreadable archive.
std::string read_bundle_json(const std::filesystem::path& bundle);

/// One repo of a bundle as `inspect` shows it.
struct InspectedRepo {
    std::string id;
    std::string name;
    std::size_t packages = 0;  ///< all, including those an incremental bundle's base carries
    std::uint64_t package_bytes = 0;
    std::size_t from_base = 0;  ///< of `packages`, how many are on the base medium
};

/// What `inspect` shows: bundle.json as parsed, the repos summed up and the embedded signer,
/// which is NOT verified (that is `ovirt-applier verify`).
struct BundleSummary {
    BundleManifest manifest;
    std::vector<InspectedRepo> repos;
    std::uint64_t total_bytes = 0;   ///< of the files on this medium
    std::uint64_t base_bytes = 0;    ///< of the files taken from the base (incremental bundles)
    std::string signer_subject;      ///< empty when there is no readable signature
    std::string signer_fingerprint;  ///< SHA-256, as openssl prints it
    std::string signature_problem;   ///< why the signer could not be read, else empty
};

/// Reads a bundle (directory, .iso or .tar) without verifying it. ConfigError when the path
/// is missing or no bundle; BundleRefused when bundle.json is malformed.
BundleSummary inspect_bundle(const std::filesystem::path& bundle);

}  // namespace airgap::repo
