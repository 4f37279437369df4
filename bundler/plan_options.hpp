#pragma once
// The options `resolve` and `build` share.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "repo/bundle/plan.hpp"

namespace airgap::bundler {

/// Options as CLI11 fills them; `request()` turns them into a PlanRequest.
struct PlanOptions {
    std::string manifest;
    std::vector<std::string> inventories;
    std::vector<std::string> roles;
    std::vector<std::string> repo_urls;  // ID=URL
    std::vector<std::string> repofiles;
    std::string cache;
    std::string debugsolver;
    std::vector<std::string> node_persisted;

    repo::PlanRequest request() const;
};

/// Adds -m, --inventory, --role, --repo-url, --repofile, --cache, --debugsolver, --node-persisted
/// to `cmd`.
void add_plan_options(CLI::App* cmd, PlanOptions& options);

}  // namespace airgap::bundler
