#pragma once
// The target's yum configuration during an update: the bundle's
// repos as one ovirt-airgap-<id>.repo with file:// URLs, and every other repo disabled for the
// run (upstream's mirrorlists cannot be reached offline, and engine-setup asks yum about
// enabled repos). Originals are kept by the caller in the journal before anything changes, so
// that they can be restored after success, after a failure and after a kill.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

/// Prefix of every repo id and repo file the applier writes; the package manager runs with
/// `--disablerepo=* --enablerepo=ovirt-airgap-*`.
inline constexpr const char* kAirgapRepoPrefix = "ovirt-airgap-";

/// The yum repo id of a bundle's repo: "ovirt-airgap-<bundle id>-<repo id>". EL7's yum keeps
/// each repo's metadata in /var/cache/yum/<basearch>/7/<repo id> and, with metadata_expire=never,
/// trusts it for ever: ids shared between bundles would read a later bundle through an earlier
/// one's metadata. One id per bundle and repo makes that impossible.
std::string bundle_repo_id(const std::string& bundle_id, const std::string& repo_id);

/// ROOT/etc/yum.repos.d ("/" or empty root: /etc/yum.repos.d).
std::filesystem::path yum_repos_dir(const std::filesystem::path& root);

/// ROOT/etc/yum.repos.d/ovirt-airgap-<bundle id>.repo.
std::filesystem::path bundle_repofile(const std::filesystem::path& root, const std::string& bundle_id);

/// The .repo text for a bundle staged at `staged_dir` (absolute): one section
/// bundle_repo_id() per bundle repo, baseurl=file://STAGED/<path>, enabled=1,
/// gpgcheck=1, gpgkey=file://STAGED/<key> for each of the repo's keys, and repo_gpgcheck=1
/// when the bundle lists the repo's repodata/repomd.xml.asc (built with --sign-repodata).
std::string render_bundle_repofile(const BundleManifest& manifest, const std::filesystem::path& staged_dir);

/// Writes render_bundle_repofile() atomically to bundle_repofile(); returns the path.
std::filesystem::path write_bundle_repofile(const std::filesystem::path& root, const BundleManifest& manifest,
                                            const std::filesystem::path& staged_dir);

/// Removes bundle_repofile() if present.
void remove_bundle_repofile(const std::filesystem::path& root, const std::string& bundle_id);

/// The ids of the bundles whose ovirt-airgap-<id>.repo files are in the root's yum.repos.d,
/// `keep_id` left out: earlier bundles, whose repos a newer one replaces. Only names with a
/// bundle id are taken, never a file an administrator named alike.
std::vector<std::string> earlier_bundle_repofiles(const std::filesystem::path& root, const std::string& keep_id);

/// One line of a .repo file as the readers here see it (yum's INI dialect): a `[name]` header, a
/// `key = value` line (key in lower case), or anything else: blank, comment (# or ;), or a
/// continuation (it starts with a blank).
struct RepoLine {
    enum class Kind { section, key, other };
    Kind kind = Kind::other;
    std::string name;  ///< the section's name or the key
};
RepoLine scan_repo_line(std::string_view line);

/// `text` (a .repo file) with every section's `enabled` set to 0 (added after the section
/// header where missing); comments and everything else kept as they are.
std::string disable_all_sections(const std::string& text);

/// One .repo file the applier changes for the run.
struct RepoFileChange {
    std::filesystem::path file;
    std::string original;  ///< the content before
    std::string changed;   ///< what the applier writes
    bool operator==(const RepoFileChange& o) const {
        return file == o.file && original == o.original && changed == o.changed;
    }
};

/// Every *.repo in `repos_dir` except ovirt-airgap-* that has an enabled section, with the
/// content disable_all_sections() gives it; sorted by file name. Writes nothing: journal the
/// result, then apply_repo_changes().
std::vector<RepoFileChange> plan_disable_other_repos(const std::filesystem::path& repos_dir);

/// Writes each change's `changed` content atomically (keeping the file's mode).
void apply_repo_changes(const std::vector<RepoFileChange>& changes);

/// Puts each original back, atomically. A file whose content is no longer `changed` was
/// rewritten by a package update (ovirt-release43) or an administrator meanwhile: it is left as
/// it is and returned, so that the caller can say so. A missing file is left missing.
/// Idempotent: restoring twice changes nothing the second time.
std::vector<std::filesystem::path> restore_repo_changes(const std::vector<RepoFileChange>& changes);

/// The journal form: [{"file", "original", "changed"}...].
nlohmann::json repo_changes_to_json(const std::vector<RepoFileChange>& changes);
std::vector<RepoFileChange> repo_changes_from_json(const nlohmann::json& j);

}  // namespace airgap::repo
