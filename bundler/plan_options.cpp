#include "bundler/plan_options.hpp"

#include <iostream>

#include "cli/cli.hpp"

namespace airgap::bundler {

repo::PlanRequest PlanOptions::request() const {
    repo::PlanRequest req;
    req.manifest = manifest;
    for (const auto& f : inventories) req.inventories.emplace_back(f);
    req.roles = roles;
    for (const auto& kv : repo_urls) req.repo_urls.push_back(cli::split_key_value(kv, "--repo-url"));
    for (const auto& f : repofiles) req.repofiles.emplace_back(f);
    req.cache_dir = cache;
    req.debug_dir = debugsolver;
    req.node_persisted = node_persisted;
    return req;
}

void add_plan_options(CLI::App* cmd, PlanOptions& o) {
    cmd->add_option("-m,--manifest", o.manifest, "Bundle manifest (YAML)")->required();
    cmd->add_option("--inventory", o.inventories, "Inventory of a machine to update (repeatable)");
    cmd->add_option("--role", o.roles, "Role to install from scratch: engine, host, node (repeatable)");
    cmd->add_option("--repo-url", o.repo_urls, "ID=URL: use URL as the baseurl of repo ID (repeatable)");
    cmd->add_option("--repofile", o.repofiles, "A yum .repo file whose repos replace or extend the manifest's");
    cmd->add_option("--cache", o.cache, "Metadata and package cache directory");
    cmd->add_option("--debugsolver", o.debugsolver, "Write a libsolv testcase of failing resolutions here");
    cmd->add_option("--node-persisted", o.node_persisted,
                    "NAME: on oVirt Nodes, update this package the admin installed (kept by imgbased) despite "
                    "the Node's version lock (repeatable)");
}

}  // namespace airgap::bundler
