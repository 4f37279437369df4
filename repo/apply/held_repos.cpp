#include "repo/apply/held_repos.hpp"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "repo/base/error.hpp"
#include "repo/base/text.hpp"
#include "repo/state/atomic_file.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void save(const fs::path& state_dir, const HeldRepos& held) {
    json j{{"bundle", held.bundle}, {"changes", repo_changes_to_json(held.changes)}};
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    write_file_atomic(held_repos_file(state_dir), j.dump(2) + "\n", 0600);
}

// The [section] names of a .repo text, in order.
std::vector<std::string> section_names(const std::string& text) {
    std::vector<std::string> names;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        RepoLine scanned = scan_repo_line(line);
        if (scanned.kind == RepoLine::Kind::section) names.push_back(std::move(scanned.name));
    }
    return names;
}

}  // namespace

fs::path held_repos_file(const fs::path& state_dir) { return state_dir / "held-repos.json"; }

HeldRepos load_held_repos(const fs::path& state_dir) {
    HeldRepos held;
    fs::path file = held_repos_file(state_dir);
    std::error_code ec;
    if (!fs::exists(file, ec)) return held;
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
        json j = json::parse(text);
        held.bundle = j.value("bundle", "");
        held.changes = repo_changes_from_json(j.value("changes", json::array()));
    } catch (const std::exception& e) {
        throw ConfigError("cannot read " + file.string() + ": " + e.what() +
                          "; it holds the host's original repo files: restore it, do not remove it");
    }
    return held;
}

std::vector<fs::path> hold_repos(const fs::path& root, const fs::path& state_dir, const std::string& bundle_id) {
    HeldRepos held = load_held_repos(state_dir);
    held.bundle = bundle_id;
    std::vector<RepoFileChange> now = plan_disable_other_repos(yum_repos_dir(root));
    for (const auto& change : now) {
        bool replaced = false;
        for (auto& h : held.changes)
            if (h.file == change.file) h = change, replaced = true;
        if (!replaced) held.changes.push_back(change);
    }
    save(state_dir, held);  // the originals are safe before any file changes
    apply_repo_changes(now);
    std::vector<fs::path> files;
    for (const auto& c : now) files.push_back(c.file);
    return files;
}

std::vector<fs::path> release_held_repos(const fs::path& state_dir) {
    HeldRepos held = load_held_repos(state_dir);
    std::vector<fs::path> left = restore_repo_changes(held.changes);
    std::error_code ec;
    fs::remove(held_repos_file(state_dir), ec);
    if (ec) throw ConfigError("cannot remove " + held_repos_file(state_dir).string() + ": " + ec.message());
    return left;
}

std::vector<std::string> describe_held_repos(const fs::path& state_dir) {
    HeldRepos held = load_held_repos(state_dir);
    std::vector<std::string> lines;
    for (const auto& c : held.changes) {
        const std::string ids = join(section_names(c.original), ", ");
        lines.push_back("held for bundle " + held.bundle + ": " + c.file.string() + " (" + ids + ")");
    }
    return lines;
}

}  // namespace airgap::repo
