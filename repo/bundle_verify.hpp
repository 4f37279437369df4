#pragma once
// Verifying and staging a bundle on the isolated side (DESIGN.md "Applier", steps 1 and 2).
// Order matters (STYLE.md 7): the signature over bundle.json's exact bytes first, nothing else
// read before; then the manifest, expiry, the serial against the last one applied here, and
// every listed file's size and SHA-256 in one streaming pass. Files the signed manifest does not
// list are never used.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "repo/archive.hpp"
#include "repo/bundle_manifest.hpp"
#include "repo/signing.hpp"

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
    SignerInfo signer;
    std::optional<VerifiedBase> base;  ///< set when the bundle is incremental and its base was given
};

/// "bundle ID is incremental: give its base bundle ID (serial N) with --base", for an
/// incremental bundle whose base is missing.
std::string missing_base_message(const BundleManifest& m);

/// Expected size and digest of each file bundle.json lists.
ExpectedFiles expected_files(const BundleManifest& manifest);

/// Verifies BUNDLE (directory, .iso or .tar) in DESIGN.md's order. BundleRefused with one line
/// naming what is wrong: unsigned, bad signature or untrusted signer, bad manifest, expired,
/// rollback, a missing, tampered or wrongly sized file, an unsafe entry (absolute, `..`, any
/// symbolic link, hard link, device node). Writes nothing except a temporary copy of
/// bundle.json and its signature for an archive (removed before returning).
VerifiedBundle verify_bundle(const std::filesystem::path& bundle, const VerifyOptions& options,
                             ArchiveCallbacks* callbacks = nullptr);

/// Where a verified bundle is readable as plain files.
struct StagedBundle {
    enum class How { in_place, mounted, extracted };
    std::filesystem::path dir;  ///< holds bundle.json's tree (repos/, keys/)
    How how = How::in_place;
};

/// "in-place", "mounted", "extracted" and back (for the journal); ConfigError for others.
std::string to_string(StagedBundle::How how);
StagedBundle::How parse_staged_how(const std::string& text);

/// Stages `bundle`: a directory is used in place; an ISO is loop-mounted read-only at
/// `staging_root`/<id> when `try_mount` and the kernel permits it; otherwise an archive is
/// extracted with extract_verified() into `staging_root`/<id> (hashing again while writing, so
/// that what lands on disk is what was signed). An incremental bundle is always copied there,
/// its own files and those its base lends, checked again while copied, into a temporary
/// directory renamed into place when complete (ConfigError when the base was not given). An
/// existing `staging_root`/<id> left by an earlier run is removed first.
StagedBundle stage_bundle(const VerifiedBundle& bundle, const std::filesystem::path& staging_root, bool try_mount,
                          ArchiveCallbacks* callbacks = nullptr);

/// What resolving needs and no more: every listed file that is not a package (repodata,
/// keys), for a dry run, which must not extract a multi-gigabyte ISO to print a plan. A
/// directory bundle (incremental too: its repodata are complete) is used in place; an archive
/// has those files extracted as stage_bundle() would. Undone by unstage_bundle().
StagedBundle stage_metadata(const VerifiedBundle& bundle, const std::filesystem::path& staging_root);

/// Removes what earlier bundles left staged under `staging_root` (a directory per bundle id,
/// `keep_id` left out, unmounted first where mounted; and temporary directories of cut-short
/// extractions): a host staged for the Engine keeps its copy until a newer bundle replaces
/// it. Returns the ids removed; a mount that cannot be unmounted is left (ConfigError).
std::vector<std::string> unstage_earlier(const std::filesystem::path& staging_root, const std::string& keep_id);

/// Undoes stage_bundle(): unmounts or removes what it made; leaves an in-place bundle alone.
/// Best effort for the mount point (ConfigError when umount fails).
void unstage_bundle(const StagedBundle& staged);

}  // namespace airgap::repo
