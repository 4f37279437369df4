#include "repo/apply/repo_originals_private.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "repo/base/error.hpp"
#include "repo/state/atomic_file.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIndex = "changes.json";

}  // namespace

fs::path original_repos_dir(const fs::path& state_dir) { return state_dir / "original-repos"; }

void save_original_repos(const fs::path& state_dir, const std::vector<RepoFileChange>& changes) {
    fs::path dir = original_repos_dir(state_dir);
    try {
        AtomicDir tree(dir);
        // The copies are for the administrator's eyes (and hands); changes.json is what restores.
        for (const auto& c : changes) write_file_atomic(tree.path() / c.file.filename(), c.original, 0600);
        write_file_atomic(tree.path() / kIndex, repo_changes_to_json(changes).dump(2) + "\n", 0600);
        tree.commit();
    } catch (const std::exception& e) {
        throw ConfigError("cannot keep the original repo files in " + dir.string() + ": " + e.what());
    }
}

std::vector<RepoFileChange> saved_original_repos(const fs::path& state_dir) {
    fs::path index = original_repos_dir(state_dir) / kIndex;
    std::ifstream in(index, std::ios::binary);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return repo_changes_from_json(nlohmann::json::parse(text.str()));
    } catch (const std::exception& e) {
        throw ConfigError(index.string() + " is damaged (" + e.what() +
                          "): the original repo files are the copies "
                          "beside it; put them back in /etc/yum.repos.d by hand, then remove " +
                          original_repos_dir(state_dir).string());
    }
}

void forget_original_repos(const fs::path& state_dir) {
    std::error_code ec;
    fs::remove_all(original_repos_dir(state_dir), ec);
    if (ec) throw ConfigError("cannot remove " + original_repos_dir(state_dir).string() + ": " + ec.message());
}

}  // namespace airgap::repo
