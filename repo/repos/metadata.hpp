#pragma once
// rpm-md metadata of one repo, fetched with librepo and kept in a cache directory.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "repo/base/reporter.hpp"
#include "repo/repos/repo_config.hpp"

namespace airgap::repo {

/// A repo's metadata on local disk, every file checked against repomd.xml.
struct RepoMetadata {
    std::string repo_id;
    std::filesystem::path dir;         // contains repodata/
    std::filesystem::path repomd;      // repodata/repomd.xml
    std::filesystem::path primary;     // primary.xml(.gz|.zst|...)
    std::filesystem::path filelists;   // may be empty if the repo has none
    std::filesystem::path updateinfo;  // may be empty
    std::string revision;              // SHA-256 of repomd.xml: the cache key of derived data
    std::string base_url;              // the URL packages are downloaded from (first working mirror)
};

/// A repo as configured and the metadata fetched for it: what a plan resolves against and what
/// its packages are downloaded from, kept together so that nothing joins them again by id.
struct PlannedRepo {
    RepoConfig config;
    RepoMetadata metadata;
};

/// Fetches (or re-uses from `cache_dir`) the metadata of enabled repos. A repo whose
/// repomd.xml is unchanged since the last run downloads nothing else.
class MetadataFetcher {
public:
    explicit MetadataFetcher(std::filesystem::path cache_dir, Reporter* callbacks = nullptr);

    /// Throws ConfigError naming repo id and URL when unreachable or corrupt, except when
    /// the repo has skip_if_unavailable: then returns nullopt (and reports a message).
    std::optional<RepoMetadata> fetch(const RepoConfig& repo);

    /// Why the last fetch() that returned nullopt skipped its repo ("cannot download ...").
    const std::string& skip_reason() const noexcept { return skip_reason_; }

private:
    std::string skip_reason_;
    std::filesystem::path cache_dir_;
    Reporter* callbacks_;
};

}  // namespace airgap::repo
