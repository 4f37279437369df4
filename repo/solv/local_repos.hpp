#pragma once
// A bundle's repos as libsolv sees them: read from disk once, put into as many pools as the
// checks need. The bundler's proof (every target resolves from the bundle alone) and the
// applier's preflight (the machine resolves from the staged bundle) build their pools alike.
#include <filesystem>
#include <string>
#include <vector>

#include "repo/repos/metadata.hpp"
#include "repo/solv/solv_pool.hpp"

namespace airgap::repo {

class LocalRepoSet {
public:
    /// Metadata is read through a cache in `cache_dir` (a scratch directory).
    explicit LocalRepoSet(std::filesystem::path cache_dir);

    /// Reads the repo in `dir` (a directory holding repodata/) as `id`, named `name`. False when
    /// it has no readable metadata: the caller says which bundle repo that is.
    bool add(const std::string& id, const std::string& name, const std::filesystem::path& dir);

    /// Adds every repo read so far to `pool`, in the order they were read.
    void add_to(SolvPool& pool) const;

private:
    MetadataFetcher fetcher_;
    std::vector<PlannedRepo> repos_;
};

}  // namespace airgap::repo
