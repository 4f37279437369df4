#pragma once
// Verifying and staging a bundle on the isolated side.
// Order matters: the signature over bundle.json's exact bytes first, nothing else
// read before; then the manifest, expiry, the serial against the last one applied here, and
// every listed file's size and SHA-256 in one streaming pass. Files the signed manifest does not
// list are never used.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "repo/archive/archive.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

/// What BUNDLE is on the command line.
enum class BundleKind { directory, iso, tar };

/// "directory", "iso", "tar".
std::string to_string(BundleKind kind);

/// A directory, or a regular file whose name ends in .iso or .tar. ConfigError when BUNDLE does
/// not exist or is anything else (the operator's input, exit 1).
BundleKind bundle_kind(const std::filesystem::path& bundle);

struct VerifyOptions {
    std::filesystem::path trust;      ///< PEM: a CA or the signer's own certificate
    std::filesystem::path state_dir;  ///< where applied.json says the last serial; empty: no rollback check
    /// False: stop after signature, manifest, expiry and serial (a resumed run whose files were
    /// verified and staged before). Archives still get their headers checked.
    bool check_files = true;
    /// False for a run that resumes: expiry is checked when a run starts, and a started run may
    /// finish with the bundle it started with (half an update is worse than a late one).
    bool check_expiry = true;
    /// The base bundle of an incremental bundle (`--base`): identified by the SHA-256 of its
    /// bundle.json, which the signed manifest pins, and its lent files checked against the
    /// signed manifest (its own signature, expiry and serial do not matter). ConfigError when
    /// given for a full bundle.
    std::filesystem::path base;
    /// Refuse an incremental bundle without `base` (ConfigError): true for applying it, false
    /// for `verify`, which checks what it can and says what is missing.
    bool require_complete = false;
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

/// The base medium of an incremental bundle, identified and (with check_files) verified.
struct VerifiedBase {
    std::filesystem::path source;
    BundleKind kind = BundleKind::directory;
    BundleManifest manifest;  ///< the base's bundle.json, as pinned by the incremental one
};

/// A bundle that passed verify_bundle(); the manifest is the signed one.
struct VerifiedBundle {
    std::filesystem::path source;  ///< BUNDLE as given
    BundleKind kind = BundleKind::directory;
    BundleManifest manifest;
    std::string manifest_sha256;  ///< of bundle.json's exact bytes: a resumed run's medium must match
    SignerInfo signer;
    std::optional<VerifiedBase> base;  ///< set when the bundle is incremental and its base was given
};

/// "bundle ID is incremental: give its base bundle ID (serial N) with --base", for an
/// incremental bundle whose base is missing.
std::string missing_base_message(const BundleManifest& m);

/// Expected size and digest of each file bundle.json lists.
ExpectedFiles expected_files(const BundleManifest& manifest);

/// Verifies BUNDLE (directory, .iso or .tar) in the order docs/bundle-format.md gives.
/// BundleRefused with one line naming what is wrong: unsigned, bad signature or untrusted signer, bad manifest,
/// expired, rollback, a missing, tampered or wrongly sized file, an unsafe entry (absolute, `..`, any symbolic link,
/// hard link, device node). Writes nothing except a temporary copy of bundle.json and its signature for an archive
/// (removed before returning).
VerifiedBundle verify_bundle(const std::filesystem::path& bundle, const VerifyOptions& options,
                             Reporter* callbacks = nullptr);

/// Where a verified bundle is readable as plain files: a private copy, never the medium.
struct StagedBundle {
    std::filesystem::path dir;  ///< holds bundle.json's tree (repos/, keys/)
};

/// `staging_root`/<id>, absolute: the only place a bundle is ever staged (a journal naming
/// another is not believed).
std::filesystem::path staged_dir_for(const std::filesystem::path& staging_root, const std::string& id);

/// Stages `bundle` by copying every listed file (its base's too, for an incremental bundle)
/// into `staging_root`/<id> while hashing it: one read of the medium, and the hash of the
/// bytes written decides. A directory is never used in place, an image never mounted: the
/// medium may change or be swapped after verify, and a mount does not survive a reboot.
/// `staging_root` is made private (0700, ours); the copy goes into a temporary directory renamed
/// into place when complete. What an earlier run left for this id is removed first.
/// BundleRefused when a file does not match; ConfigError when an incremental bundle lacks its base.
StagedBundle stage_bundle(const VerifiedBundle& bundle, const std::filesystem::path& staging_root,
                          Reporter* callbacks = nullptr);

/// Hashes the staged copy at `dir` again against the signed manifest (a resumed run, before the
/// copy is used): BundleRefused when a listed file is missing or differs, or an unlisted one
/// was added.
void check_staged(const VerifiedBundle& bundle, const std::filesystem::path& dir, Reporter* callbacks = nullptr);

/// What resolving needs and no more: every listed file that is not a package (repodata,
/// keys), copied and hashed as stage_bundle() would, for a dry run, which must not copy a
/// multi-gigabyte bundle to print a plan. Undone by unstage_bundle().
StagedBundle stage_metadata(const VerifiedBundle& bundle, const std::filesystem::path& staging_root);

/// Removes what earlier bundles left staged under `staging_root` (a directory per bundle id,
/// `keep_id` left out, unmounted first where an older applier mounted one; and temporary
/// directories of cut-short copies): a host staged for the Engine keeps its copy until a newer
/// bundle replaces it. Returns the ids removed; a mount that cannot be unmounted is left (ConfigError).
std::vector<std::string> unstage_earlier(const std::filesystem::path& staging_root, const std::string& keep_id);

/// Undoes stage_bundle(): removes the staged copy (ConfigError when it cannot).
void unstage_bundle(const StagedBundle& staged);

}  // namespace airgap::repo
