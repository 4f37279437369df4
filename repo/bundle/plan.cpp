#include "repo/bundle/plan.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "repo/base/error.hpp"
#include "repo/fetch/rpm_signature.hpp"
#include "repo/solv/inventory.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

// engine-setup upgrades its product packages itself: ovirt-engine and the default additional
// packages (ovirt-engine 4.3.10, packaging/setup/ovirt_engine_setup/engine/constants.py,
// DEFAULT_ADDITIONAL_PACKAGES; plugins/ovirt-engine-setup/ovirt-engine/distro-rpm/packages.py)
// and its setup packages, with whatever their new versions require. With requireRollback it
// refuses to go on ("Package rollback information is unavailable",
// ovirt-engine-common/distro-rpm/packages.py) unless every installed package of that transaction
// is available at its installed version in an enabled repo: the bundle carries them all.
const std::vector<std::string> kEngineSetupPackages = {"ovirt-engine",       "ovirt-host-deploy",
                                                       "ovirt-iso-uploader", "ovirt-engine-ui-extensions",
                                                       "ovirt-web-ui",       "ovirt-engine-setup"};
// The engine's and setup's own packages, carried whether or not the transaction names them.
const std::vector<std::string> kRollbackPatterns = {"ovirt-engine*", "*-setup*"};

// The installed copies engine-setup's transaction needs on this engine.
std::vector<ResolvedPackage> engine_setup_rollback(SolvPool& pool) {
    std::vector<std::string> patterns = kRollbackPatterns;
    Resolution transaction = resolve_install_update(pool, kEngineSetupPackages);
    for (const auto& nevra : transaction.replaced) {
        // "name-[epoch:]version-release.arch": the name is what precedes the last two dashes.
        auto dash = nevra.rfind('-', nevra.rfind('-') - 1);
        patterns.push_back(nevra.substr(0, dash));
    }
    std::vector<ResolvedPackage> out;
    for (auto& pkg : find_installed_copies(pool, patterns).packages) {
        pkg.reason = PackageReason::rollback;
        out.push_back(std::move(pkg));
    }
    return out;
}

// Every target resolves against the same repos; the .solv cache makes re-loading cheap.
SolvPool make_pool(const Plan& plan, const std::string& arch, const fs::path& cache_dir) {
    SolvPool pool(arch);
    for (const auto& repo : plan.repos) pool.add_repo(repo.metadata, repo.config, cache_dir / "solv");
    return pool;
}

// A --node-persisted name that no Node has installed is refused before anything is
// downloaded: a misspelt name would otherwise carry nothing without a word.
void check_node_persisted(const PlanRequest& request, const std::vector<InventoryHeader>& headers,
                          const std::string& arch) {
    std::set<std::string> installed;
    bool any_node = false;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        if (headers[i].role != "node") continue;
        any_node = true;
        SolvPool pool(arch);
        load_inventory(pool, request.inventories[i]);
        for (const auto& pkg : pool.installed_packages()) installed.insert(pkg.name);
    }
    if (!any_node) throw ConfigError("--node-persisted applies to node inventories, and none was given");
    for (const auto& name : request.node_persisted)
        if (!installed.count(name))
            throw ConfigError("--node-persisted " + name + ": no node inventory has it installed");
}

void add_target(Plan& plan, TargetPlan target) {
    for (const auto& problem : target.resolution.problems) plan.problems.push_back(target.label + ": " + problem);
    for (const auto& held : target.resolution.locked) plan.locked.push_back(target.label + ": " + held);
    plan.targets.push_back(std::move(target));
}

void merge_packages(Plan& plan, const std::vector<ResolvedPackage>& rollback) {
    std::map<std::string, ResolvedPackage> by_key;  // repo/nevra
    auto add = [&](const ResolvedPackage& pkg) {
        auto [it, inserted] = by_key.emplace(pkg.repo + "/" + pkg.nevra, pkg);
        // When one package serves several targets, the strongest reason wins.
        if (!inserted && outranks(pkg.reason, it->second.reason)) it->second.reason = pkg.reason;
    };
    for (const auto& target : plan.targets)
        for (const auto& pkg : target.resolution.packages) add(pkg);
    for (const auto& pkg : rollback) add(pkg);
    plan.packages.clear();
    for (auto& [key, pkg] : by_key) plan.packages.push_back(std::move(pkg));
}

// Waits, saying so once, while another bundler uses the same cache.
std::shared_ptr<const FileLock> lock_cache(const fs::path& cache_dir, Reporter* callbacks) {
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    if (ec) throw ConfigError("cannot create the cache " + cache_dir.string() + ": " + ec.message());
    return std::make_shared<const FileLock>(FileLock::wait(cache_dir / "lock", [&](pid_t pid) {
        if (callbacks)
            callbacks->message("waiting for another ovirt-bundler that uses the cache " + cache_dir.string() +
                               (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) + " to finish");
    }));
}

}  // namespace

fs::path default_cache_dir() {
    if (geteuid() == 0) return "/var/cache/ovirt-airgap";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "ovirt-airgap";
    if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "ovirt-airgap";
    return fs::temp_directory_path() / "ovirt-airgap-cache";
}

std::vector<RepoConfig> effective_repos(const Manifest& manifest, const PlanRequest& request) {
    std::vector<RepoConfig> repos = manifest.repos;
    for (const auto& file : request.repofiles) merge_repos(repos, parse_repofile(file, manifest.vars()));
    for (const auto& [id, url] : request.repo_urls) override_repo_url(repos, id, substitute_vars(url, manifest.vars()));
    repos.erase(std::remove_if(repos.begin(), repos.end(), [](const RepoConfig& r) { return !r.enabled; }),
                repos.end());
    return repos;
}

Resolution resolve_inventory(SolvPool& pool, const fs::path& inventory, const PlanRequest& request,
                             const ResolveOptions& options) {
    InventoryHeader header = load_inventory(pool, inventory);
    if (header.role != "node") return resolve_update(pool, options);
    return resolve_node_update(pool, request.node_persisted, options);
}

Plan make_plan(const PlanRequest& request, Reporter* callbacks) {
    Plan plan;
    plan.manifest = load_manifest(request.manifest);
    const std::vector<RepoConfig> configs = effective_repos(plan.manifest, request);
    if (configs.empty()) throw ConfigError(request.manifest.string() + ": no enabled repository");

    std::vector<std::string> roles = request.roles;
    for (const auto& role : roles)
        if (!plan.manifest.roles.count(role))
            throw ConfigError("unknown role '" + role + "': " + request.manifest.string() + " defines " + [&] {
                std::string names;
                for (const auto& [name, r] : plan.manifest.roles) names += (names.empty() ? "" : ", ") + name;
                return names;
            }());
    if (roles.empty() && request.inventories.empty())
        for (const auto& [name, role] : plan.manifest.roles) roles.push_back(name);

    // Inventories are checked before anything is downloaded: a wrong file fails fast.
    std::vector<InventoryHeader> headers;
    for (const auto& file : request.inventories) {
        auto header = read_inventory_header(file);
        if (header.arch != plan.manifest.basearch)
            throw ConfigError(file.string() + ": inventory is of arch " + header.arch + ", manifest " +
                              plan.manifest.name + " is for " + plan.manifest.basearch);
        if (!header.releasever.empty() && header.releasever != plan.manifest.releasever)
            throw ConfigError(file.string() + ": inventory is of releasever " + header.releasever + ", manifest " +
                              plan.manifest.name + " is for " + plan.manifest.releasever);
        headers.push_back(std::move(header));
    }
    if (!request.node_persisted.empty()) check_node_persisted(request, headers, plan.manifest.basearch);

    // The repos' signing keys too: a key that cannot be read would otherwise fail a build only
    // after every package was downloaded.
    check_gpg_keys(configs, fs::absolute(request.manifest).parent_path());

    fs::path cache_dir = request.cache_dir.empty() ? default_cache_dir() : request.cache_dir;
    plan.cache_lock = lock_cache(cache_dir, callbacks);
    plan.cache_dir = cache_dir;
    MetadataFetcher fetcher(cache_dir, callbacks);
    for (const auto& repo : configs) {
        if (auto md = fetcher.fetch(repo))
            plan.repos.push_back({repo, std::move(*md)});
        else
            plan.skipped_repos.emplace_back(repo.id, fetcher.skip_reason());
    }

    ResolveOptions options;
    options.debug_dir = request.debug_dir;
    std::vector<ResolvedPackage> rollback;
    for (std::size_t i = 0; i < request.inventories.size(); ++i) {
        SolvPool pool = make_pool(plan, plan.manifest.basearch, cache_dir);
        TargetPlan target;
        target.role = headers[i].role;
        target.label = "inventory " + request.inventories[i].filename().string() + " (" + headers[i].role + " on " +
                       headers[i].hostname + ")";
        target.resolution = resolve_inventory(pool, request.inventories[i], request, options);
        if (target.role == "engine")
            for (auto& pkg : engine_setup_rollback(pool)) rollback.push_back(std::move(pkg));
        add_target(plan, std::move(target));
    }
    for (const auto& role : roles) {
        SolvPool pool = make_pool(plan, plan.manifest.basearch, cache_dir);
        TargetPlan target;
        target.role = role;
        target.label = "role " + role;
        target.resolution = resolve_install(pool, plan.manifest.roles.at(role).roots, options);
        add_target(plan, std::move(target));
    }
    merge_packages(plan, rollback);
    return plan;
}

}  // namespace airgap::repo
