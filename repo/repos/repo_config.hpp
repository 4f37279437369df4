#pragma once
// One yum repository as ovirt-release43's .repo files (or a site's mirrors) define it.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace airgap::repo {

/// `$releasever`, `$basearch` (and any other yum variable) -> value.
using Vars = std::map<std::string, std::string>;

/// yum's .repo keys that matter offline. Values are already variable-substituted.
struct RepoConfig {
    std::string id;
    std::string name;
    std::vector<std::string> baseurls;  // yum allows several; tried in order
    std::string mirrorlist;
    std::string metalink;
    bool enabled = true;
    bool gpgcheck = false;
    bool skip_if_unavailable = false;
    std::vector<std::string> gpgkeys;      // URLs or paths (file:// or relative to the manifest's keys/)
    std::vector<std::string> includepkgs;  // glob patterns on package names; empty: all
    std::vector<std::string> excludepkgs;  // glob patterns on package names
    std::string source;                    // "FILE:LINE" where it was defined, for error messages
};

/// Replaces `$name` and `${name}` for every variable in `vars`; unknown variables stay as they are.
std::string substitute_vars(std::string_view text, const Vars& vars);

/// Reads a yum .repo file (INI; `[id]` sections, `key=value`, `#`/`;` comments, continuation
/// lines for baseurl/gpgkey, lists separated by commas or whitespace). Throws ConfigError
/// naming file and line.
std::vector<RepoConfig> parse_repofile(const std::filesystem::path& file, const Vars& vars);

/// `--repo-url ID=URL`: replaces the repo's baseurl/mirrorlist/metalink with URL (a baseurl).
/// Throws ConfigError when no repo has that id.
void override_repo_url(std::vector<RepoConfig>& repos, const std::string& id, const std::string& url);

/// `--repofile F`: a repo from F replaces the manifest's repo of the same id, others are added.
void merge_repos(std::vector<RepoConfig>& repos, std::vector<RepoConfig> from_file);

/// yum's booleans: 1/0, True/False, yes/no, on/off (any case); nullopt for anything else.
std::optional<bool> parse_yum_bool(std::string_view text);

/// yum's list values (includepkgs, exclude, gpgkey, baseurl): items separated by commas
/// and/or whitespace (including newlines of continuation lines); empty items dropped.
std::vector<std::string> split_yum_list(std::string_view text);

/// Does `name` pass the repo's includepkgs/excludepkgs (fnmatch globs, as yum applies them)?
bool package_allowed(const RepoConfig& repo, std::string_view name);

}  // namespace airgap::repo
