#pragma once
// What a bundle must carry: the manifest's repos (as the site overrides them), their
// metadata, and one resolution per inventory or role, merged. Shared by `resolve` and
// `build` so that both always agree.
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "repo/manifest/manifest.hpp"
#include "repo/repos/metadata.hpp"
#include "repo/solv/resolve.hpp"
#include "repo/state/atomic_file.hpp"

namespace airgap::repo {

struct PlanRequest {
    std::filesystem::path manifest;
    std::vector<std::filesystem::path> inventories;              // --inventory
    std::vector<std::string> roles;                              // --role
    std::vector<std::pair<std::string, std::string>> repo_urls;  // --repo-url ID=URL
    std::vector<std::filesystem::path> repofiles;                // --repofile
    std::filesystem::path cache_dir;                             // --cache; empty: default_cache_dir()
    std::filesystem::path debug_dir;                             // --debugsolver output, optional
    std::vector<std::string> node_persisted;                     // --node-persisted NAME: update it on Nodes
};

/// One machine (an inventory) or one role installed from scratch.
struct TargetPlan {
    std::string label;  // "inventory engine.inv (engine on host1)" or "role host"
    std::string role;
    Resolution resolution;
};

struct Plan {
    Manifest manifest;
    /// Enabled repos whose metadata could be fetched, overrides applied, manifest order.
    std::vector<PlannedRepo> repos;
    /// Repos skipped because they could not be reached (skip_if_unavailable): id -> why. A
    /// bundle built without them lacks whatever they carry, so they are never left out quietly.
    std::vector<std::pair<std::string, std::string>> skipped_repos;
    std::vector<TargetPlan> targets;
    /// The union, sorted by repo then nevra. Reasons: root, update, dependency, and rollback
    /// (the installed versions, where upstream still has them, of an engine's ovirt-engine*/setup
    /// packages and of every installed package engine-setup's own transaction changes).
    std::vector<ResolvedPackage> packages;
    std::vector<std::string> problems;  // every target's problems, each prefixed with its label
    std::vector<std::string> locked;    // every Node's held-back packages, each prefixed with its label
    /// The cache this plan's metadata came from and the build downloads into, and the lock on it
    /// held for as long as the plan (and any copy of it) lives: two bundlers at once would
    /// otherwise write the same metadata and the same package's .part file under each other.
    std::filesystem::path cache_dir;
    std::shared_ptr<const FileLock> cache_lock;
    bool ok() const noexcept { return problems.empty(); }
};

/// /var/cache/ovirt-airgap for root, else $XDG_CACHE_HOME (or ~/.cache)/ovirt-airgap.
std::filesystem::path default_cache_dir();

/// The repos of `manifest` after --repofile and --repo-url (in that order), enabled ones only.
/// Throws ConfigError for an unknown repo id in --repo-url.
std::vector<RepoConfig> effective_repos(const Manifest& manifest, const PlanRequest& request);

/// Loads `inventory` as `pool`'s installed system and resolves its update: `yum update` under
/// imgbased's version lock for a node (with request.node_persisted unlocked), else plain
/// `yum update`. Throws ConfigError for a bad inventory.
Resolution resolve_inventory(SolvPool& pool, const std::filesystem::path& inventory, const PlanRequest& request,
                             const ResolveOptions& options = {});

/// Loads the manifest, fetches metadata and resolves every target. Without inventories and
/// roles, every role of the manifest is resolved from scratch. Problems are returned, not
/// thrown; configuration errors (bad manifest, unreachable repo, bad inventory) throw.
Plan make_plan(const PlanRequest& request, Reporter* callbacks = nullptr);

}  // namespace airgap::repo
