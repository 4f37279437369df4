#pragma once
// Building and reading bundles (docs/bundle-format.md): resolve, fetch, check RPM
// signatures, assemble one local yum repo per upstream repo, prove the bundle resolves on its
// own, sign bundle.json and put the result in place atomically. `ovirt-bundler build` is a
// thin front of this; reading bundles back (`inspect`, `--since`) is bundle_inspect.hpp.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "repo/base/reporter.hpp"
#include "repo/bundle/plan.hpp"
#include "repo/fetch/package_fetch.hpp"
#include "repo/repos/metadata.hpp"
#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

/// What `ovirt-bundler build` was asked for.
struct BuildRequest {
    PlanRequest plan;
    std::filesystem::path sign_key;   ///< PEM private key
    std::filesystem::path sign_cert;  ///< PEM certificate matching `sign_key`
    std::string sign_passphrase;      ///< of a passphrase-protected --sign-key; empty: none
    std::filesystem::path output;     ///< OUT.iso, OUT.tar (any case), or OUTDIR/; must not exist
    /// Default: creation time in seconds since the epoch; with `since`, at least the base's + 1.
    std::optional<std::uint64_t> serial;
    int expires_days = 90;  ///< 1..3650
    /// A bundle built before (directory, .iso or .tar): the packages it carries byte for byte
    /// are left out and listed in base_bundle (an incremental bundle); empty: a full bundle.
    std::filesystem::path since;
    int jobs = 4;  ///< parallel downloads, 1..64
    /// The applier's EL7 package to carry as applier/NAME.rpm (repo/bundle/applier_rpm_private.hpp); empty: none.
    std::filesystem::path with_applier;
    /// Repo ids that may be missing from this build when they cannot be reached
    /// (`--allow-missing-repo`); any other unreachable repo refuses the build.
    std::vector<std::string> allow_missing_repos;
    /// An exported GnuPG secret key file (repo/bundle/repodata_sign_private.hpp) that signs each bundle repo's
    /// repomd.xml; its public key is carried and listed among every repo's gpgkeys. Empty: none.
    std::filesystem::path sign_repodata;
    TransferLimits transfer;  ///< --timeout, --retries of the package downloads
};

/// What a finished build wrote.
struct BuildResult {
    BundleManifest manifest;
    std::filesystem::path output;
    std::uint64_t payload_bytes = 0;  ///< sum of the sizes of every file listed in bundle.json
};

/// Builds the bundle. Order: refuse early (existing output, unusable signing key or
/// certificate or --sign-repodata key: ConfigError, nothing written or downloaded), plan (problems: ResolveProblem),
/// download and check (ConfigError naming the package), assemble beside the output, prove
/// (ResolveProblem when the bundle alone does not reach the plan), sign, put in place. On any
/// failure nothing is left at `request.output` and the temporary tree is removed.
/// Progress, lines and cancellation go through `reporter`: downloads as "downloading" (in
/// packages), packing as "packing"; cancelled() is asked between steps and with every progress
/// report, and stops the build with airgap::Interrupted (nothing left at the output path).
BuildResult build_bundle(const BuildRequest& request, Reporter* reporter = nullptr);

}  // namespace airgap::repo
