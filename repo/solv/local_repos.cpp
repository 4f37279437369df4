#include "repo/solv/local_repos.hpp"

#include <utility>

namespace airgap::repo {

namespace fs = std::filesystem;

LocalRepoSet::LocalRepoSet(fs::path cache_dir) : fetcher_(std::move(cache_dir)) {}

bool LocalRepoSet::add(const std::string& id, const std::string& name, const fs::path& dir) {
    RepoConfig config;
    config.id = id;
    config.name = name;
    config.baseurls = {"file://" + fs::absolute(dir).lexically_normal().string()};
    auto md = fetcher_.fetch(config);
    if (!md) return false;
    repos_.push_back({std::move(config), std::move(*md)});
    return true;
}

void LocalRepoSet::add_to(SolvPool& pool) const {
    for (const auto& repo : repos_) pool.add_repo(repo.metadata, repo.config);
}

}  // namespace airgap::repo
