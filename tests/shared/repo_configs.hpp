#pragma once
// Repo configurations as the resolution tests write them.
#include <string>
#include <utility>
#include <vector>

#include "repo/repos/repo_config.hpp"

namespace airgap::test {

/// Repo `id` with yum's includepkgs and excludepkgs globs (empty: no such line).
inline repo::RepoConfig repo_config(const std::string& id, std::vector<std::string> include = {},
                                    std::vector<std::string> exclude = {}) {
    repo::RepoConfig c;
    c.id = id;
    c.includepkgs = std::move(include);
    c.excludepkgs = std::move(exclude);
    return c;
}

}  // namespace airgap::test
