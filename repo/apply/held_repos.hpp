#pragma once
// A host staged for the Engine's host upgrade keeps its upstream repos disabled until the bundle
// is unstaged. The Engine upgrades a host by running yum through ansible on the host with every
// enabled repo (ovirt-engine 4.3.10, packaging/playbooks/roles/ovirt-host-upgrade/tasks/main.yml,
// "Update system": yum name='*' state=latest update_cache=yes); with EL7's default
// skip_if_unavailable=False one upstream repo that cannot be reached (ovirt-release43's
// mirrorlists, offline) fails the whole run. The originals are kept in STATE/held-repos.json,
// written before any repo file changes, so that they are given back exactly.
#include <filesystem>
#include <string>
#include <vector>

#include "repo/apply/yum_repos.hpp"

namespace airgap::repo {

/// What is held: the bundle it is held for, and each repo file's original and held content.
struct HeldRepos {
    std::string bundle;
    std::vector<RepoFileChange> changes;
};

/// STATE/held-repos.json.
std::filesystem::path held_repos_file(const std::filesystem::path& state_dir);

/// The hold in `state_dir`; empty `changes` when nothing is held. ConfigError when unreadable.
HeldRepos load_held_repos(const std::filesystem::path& state_dir);

/// Disables every enabled repo of ROOT's yum.repos.d but the bundles' own, for `bundle_id`,
/// adding to what an earlier bundle held (those files keep their first originals; a file a
/// package update rewrote meanwhile is held as it is now). Saved before any file changes.
/// Returns the files it changed now.
std::vector<std::filesystem::path> hold_repos(const std::filesystem::path& root, const std::filesystem::path& state_dir,
                                              const std::string& bundle_id);

/// Gives every held file back as it was and forgets the hold. Returns the files left alone
/// because a package update (or an administrator) rewrote them meanwhile.
std::vector<std::filesystem::path> release_held_repos(const std::filesystem::path& state_dir);

/// For `status`: one line per held file, "held for bundle ID: FILE (repo, repo...)".
std::vector<std::string> describe_held_repos(const std::filesystem::path& state_dir);

}  // namespace airgap::repo
