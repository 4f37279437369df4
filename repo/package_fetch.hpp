#pragma once
// Downloading the packages a resolution chose, with librepo, into the shared cache.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/metadata.hpp"
#include "repo/repo_config.hpp"

namespace airgap::repo {

/// One package to download; the fields come from ResolvedPackage (repo/resolve.hpp).
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

/// Progress and log lines of a download; the library never prints. Do-nothing defaults.
class DownloadCallbacks {
public:
    virtual ~DownloadCallbacks() = default;
    /// Bytes and files done so far over the whole batch; return false to abort (Interrupted).
    virtual bool progress(std::uint64_t /*done_bytes*/, std::uint64_t /*total_bytes*/, std::size_t /*done_files*/,
                          std::size_t /*total_files*/) {
        return true;
    }
    virtual void message(const std::string& /*line*/) {}
};

/// Downloads every package into cache_dir/packages/<repo id>/<basename of location> with librepo
/// (lr_download_packages, `jobs` parallel downloads), each checked against its checksum; a
/// package already in the cache with the right checksum is not downloaded again; a download
/// goes to FILE.part, renamed when its checksum matched, and one interrupted by a killed run
/// resumes from there (librepo resume, ranged GET); librepo retries broken transfers itself. `repos` gives each repo's
/// URLs (baseurls/mirrorlist/ metalink) and the URL that worked for its metadata (tried first). Returns the
/// packages in the order of `packages`. Throws ConfigError (exit 1: the build fails, nothing is packed) naming package
/// and URL on a checksum mismatch ("corrupt package X from URL: checksum mismatch") or when a package cannot be
/// downloaded; Interrupted when a callback asked to stop.
std::vector<FetchedPackage> fetch_packages(const std::vector<PackageRequest>& packages,
                                           const std::vector<PlannedRepo>& repos,
                                           const std::filesystem::path& cache_dir, int jobs,
                                           DownloadCallbacks* callbacks = nullptr);

}  // namespace airgap::repo
