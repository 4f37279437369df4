#pragma once
// The .repo files a run disables, kept as plain files beside the journal (STATE/original-repos/:
// a verbatim copy of each original and changes.json to put them back). The journal alone is not
// enough: a damaged journal moved aside, as its error advises, would take the only copy of the
// originals with it and leave the upstream repos disabled for good.
#include <filesystem>
#include <vector>

#include "repo/apply/yum_repos.hpp"

namespace airgap::repo {

/// STATE/original-repos.
std::filesystem::path original_repos_dir(const std::filesystem::path& state_dir);

/// Writes `changes` (originals and what the applier writes instead) to original_repos_dir(),
/// complete or not at all: call before applying them. ConfigError when it cannot.
void save_original_repos(const std::filesystem::path& state_dir, const std::vector<RepoFileChange>& changes);

/// What save_original_repos() kept; empty when nothing is kept. ConfigError when damaged.
std::vector<RepoFileChange> saved_original_repos(const std::filesystem::path& state_dir);

/// Removes original_repos_dir() once the originals are back.
void forget_original_repos(const std::filesystem::path& state_dir);

}  // namespace airgap::repo
