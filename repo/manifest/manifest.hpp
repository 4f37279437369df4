#pragma once
// The bundle manifest (manifests/ovirt-4.3-el7.yaml is one): YAML describing repos and roles.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "repo/repos/repo_config.hpp"

namespace airgap::repo {

struct Role {
    std::vector<std::string> roots;  // package names installed for the role on an empty system
};

struct Manifest {
    std::string name;
    std::string releasever;
    std::string basearch;
    std::vector<RepoConfig> repos;      // variables substituted
    std::map<std::string, Role> roles;  // "engine", "host", "node"
    std::filesystem::path path;         // the manifest file; gpgkeys without a scheme are relative to its dir

    Vars vars() const { return {{"releasever", releasever}, {"basearch", basearch}}; }
};

/// Loads and validates a manifest. Throws ConfigError "FILE:LINE: ..." naming the bad key.
Manifest load_manifest(const std::filesystem::path& file);

}  // namespace airgap::repo
