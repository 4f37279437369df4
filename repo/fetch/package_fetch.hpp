#pragma once
// Downloading the packages a resolution chose, with librepo, into the shared cache.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/base/reporter.hpp"
#include "repo/repos/metadata.hpp"
#include "repo/repos/repo_config.hpp"

namespace airgap::repo {

/// One package to download; the fields come from ResolvedPackage (repo/solv/resolve.hpp).
struct PackageRequest {
    std::string repo_id;
    std::string nevra;
    std::string location;       // href relative to the repo's base URL
    std::string checksum_type;  // "sha256", "sha1", ... from the repo metadata
    std::string checksum;       // hex
    std::uint64_t size = 0;     // download size
};

/// A package in the cache, checked against its checksum.
struct FetchedPackage {
    PackageRequest request;
    std::filesystem::path path;  // in the cache: cache_dir/packages/<repo id>/<basename of location>
};

/// How long a transfer may stall and how often a failed one is tried again (`build --timeout`,
/// `--retries`).
struct TransferLimits {
    /// A transfer that moves less than 1000 bytes/s for this long, or a connection not made within
    /// it, is given up and tried again (librepo's LRO_LOWSPEEDTIME and LRO_CONNECTTIMEOUT).
    int timeout_s = 30;
    /// Failed transfers a mirror may have beyond the first while it has had no success, before it
    /// is given up (librepo's LRO_ALLOWEDMIRRORFAILURES is this + 1): a package alone on a broken
    /// mirror is tried retries + 1 times; many packages on a dead one give it up sooner. The
    /// repo's other mirrors are tried as well.
    int retries = 3;
};

/// Downloads every package into cache_dir/packages/<repo id>/<basename of location> with librepo
/// (lr_download_packages, `jobs` parallel downloads), each checked against its checksum; a
/// package already in the cache with the right checksum is not downloaded again; a download
/// goes to FILE.part, renamed when its checksum matched, and one interrupted by a killed run
/// resumes from there (librepo resume, ranged GET); librepo retries broken transfers itself. `repos` gives each repo's
/// URLs (baseurls/mirrorlist/ metalink) and the URL that worked for its metadata (tried first). Returns the
/// packages in the order of `packages`. Throws ConfigError (exit 1: the build fails, nothing is packed) naming package
/// and URL on a checksum mismatch ("corrupt package X from URL: checksum mismatch") or when a package cannot be
/// downloaded; Interrupted when the reporter asked to stop. Each failed try is one message
/// ("package X: attempt 1 failed at URL: why").
std::vector<FetchedPackage> fetch_packages(const std::vector<PackageRequest>& packages,
                                           const std::vector<PlannedRepo>& repos,
                                           const std::filesystem::path& cache_dir, int jobs,
                                           Reporter* reporter = nullptr, const TransferLimits& limits = {});

}  // namespace airgap::repo
