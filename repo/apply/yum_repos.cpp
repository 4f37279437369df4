#include "repo/apply/yum_repos.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/base/text.hpp"
#include "repo/state/atomic_file.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

mode_t file_mode(const fs::path& file) {
    struct stat st {};
    if (stat(file.c_str(), &st) != 0) return 0644;
    return st.st_mode & 07777;
}

}  // namespace

RepoLine scan_repo_line(std::string_view line) {
    std::string_view t = trim(line);
    if (t.size() >= 2 && t.front() == '[' && t.back() == ']')
        return {RepoLine::Kind::section, std::string(t.substr(1, t.size() - 2))};
    if (line.empty() || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == ';') return {};
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return {};
    std::string key(trim(line.substr(0, eq)));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    return {RepoLine::Kind::key, key};
}

std::string bundle_repo_id(const std::string& bundle_id, const std::string& repo_id) {
    return kAirgapRepoPrefix + bundle_id + "-" + repo_id;
}

fs::path yum_repos_dir(const fs::path& root) { return Target(root).path("/etc/yum.repos.d"); }

fs::path bundle_repofile(const fs::path& root, const std::string& bundle_id) {
    return yum_repos_dir(root) / (std::string(kAirgapRepoPrefix) + bundle_id + ".repo");
}

std::string render_bundle_repofile(const BundleManifest& manifest, const fs::path& staged_dir) {
    std::ostringstream out;
    out << "# Written by ovirt-applier for bundle " << manifest.id << " (serial " << manifest.serial
        << "); removed again when the bundle is unstaged.\n";
    for (const auto& r : manifest.repos) {
        out << "\n[" << bundle_repo_id(manifest.id, r.id) << "]\n";
        out << "name=ovirt-airgap bundle " << manifest.serial << ": " << (r.name.empty() ? r.id : r.name) << "\n";
        out << "baseurl=file://" << (staged_dir / r.path).lexically_normal().string() << "\n";
        out << "enabled=1\n";
        out << "gpgcheck=1\n";
        // A bundle built with signed repodata lists repomd.xml.asc under the repo's own path
        // (and the signing key among its gpgkeys): yum then checks the metadata too, wherever
        // the repo is served from.
        const std::string asc = r.path + "/repodata/repomd.xml.asc";
        if (std::any_of(manifest.files.begin(), manifest.files.end(),
                        [&](const BundleFile& f) { return f.path == asc; }))
            out << "repo_gpgcheck=1\n";
        if (!r.gpgkeys.empty()) {
            out << "gpgkey=";
            for (std::size_t i = 0; i < r.gpgkeys.size(); ++i)
                out << (i ? "\n       " : "") << "file://" << (staged_dir / r.gpgkeys[i]).lexically_normal().string();
            out << "\n";
        }
        out << "skip_if_unavailable=0\n";
        out << "metadata_expire=never\n";
    }
    return out.str();
}

fs::path write_bundle_repofile(const fs::path& root, const BundleManifest& manifest, const fs::path& staged_dir) {
    fs::path file = bundle_repofile(root, manifest.id);
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) throw ConfigError("cannot create " + file.parent_path().string() + ": " + ec.message());
    write_file_atomic(file, render_bundle_repofile(manifest, staged_dir), 0644);
    return file;
}

void remove_bundle_repofile(const fs::path& root, const std::string& bundle_id) {
    std::error_code ec;
    fs::remove(bundle_repofile(root, bundle_id), ec);
    if (ec) throw ConfigError("cannot remove " + bundle_repofile(root, bundle_id).string() + ": " + ec.message());
}

std::vector<std::string> earlier_bundle_repofiles(const fs::path& root, const std::string& keep_id) {
    std::vector<std::string> ids;
    std::error_code ec;
    const std::string prefix = kAirgapRepoPrefix, suffix = ".repo";
    for (const auto& entry : fs::directory_iterator(yum_repos_dir(root), ec)) {
        std::string name = entry.path().filename().string();
        if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        std::string id = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
        if (is_bundle_id(id) && id != keep_id) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::string disable_all_sections(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    bool in_section = false, seen_enabled = false;
    std::size_t header_at = 0;
    auto close_section = [&] {
        if (in_section && !seen_enabled)
            out.insert(out.begin() + static_cast<std::ptrdiff_t>(header_at) + 1, "enabled=0");
    };
    for (std::string line; std::getline(in, line);) {
        const RepoLine scanned = scan_repo_line(line);
        if (scanned.kind == RepoLine::Kind::section) {
            close_section();
            out.push_back(line);
            in_section = true;
            seen_enabled = false;
            header_at = out.size() - 1;
            continue;
        }
        if (in_section && scanned.kind == RepoLine::Kind::key && scanned.name == "enabled") {
            out.emplace_back("enabled=0");
            seen_enabled = true;
            continue;
        }
        out.push_back(line);
    }
    close_section();
    std::string result;
    for (const auto& l : out) result += l + "\n";
    // Keep a file without a final newline exactly as it was where nothing changed.
    if (!text.empty() && text.back() != '\n' && result == text + "\n") return text;
    return result;
}

std::vector<RepoFileChange> plan_disable_other_repos(const fs::path& repos_dir) {
    std::vector<RepoFileChange> changes;
    std::error_code ec;
    if (!fs::is_directory(repos_dir, ec)) return changes;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(repos_dir, ec)) {
        const std::string name = e.path().filename().string();
        if (e.path().extension() != ".repo" || name.rfind(kAirgapRepoPrefix, 0) == 0) continue;
        if (!e.is_regular_file() || e.is_symlink()) continue;
        files.push_back(e.path());
    }
    if (ec) throw ConfigError("cannot list " + repos_dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        RepoFileChange c;
        c.file = f;
        auto original = read_file(f);
        if (!original) throw ConfigError("cannot read " + f.string());
        c.original = std::move(*original);
        c.changed = disable_all_sections(c.original);
        if (c.changed != c.original) changes.push_back(std::move(c));
    }
    return changes;
}

void apply_repo_changes(const std::vector<RepoFileChange>& changes) {
    for (const auto& c : changes) write_file_atomic(c.file, c.changed, file_mode(c.file));
}

std::vector<fs::path> restore_repo_changes(const std::vector<RepoFileChange>& changes) {
    std::vector<fs::path> left;
    for (const auto& c : changes) {
        auto now = read_file(c.file);
        if (!now) continue;                // removed meanwhile (a package went away)
        if (*now == c.original) continue;  // already restored
        if (*now != c.changed) {
            left.push_back(c.file);
            continue;
        }
        write_file_atomic(c.file, c.original, file_mode(c.file));
    }
    return left;
}

nlohmann::json repo_changes_to_json(const std::vector<RepoFileChange>& changes) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& c : changes)
        j.push_back({{"file", c.file.string()}, {"original", c.original}, {"changed", c.changed}});
    return j;
}

std::vector<RepoFileChange> repo_changes_from_json(const nlohmann::json& j) {
    std::vector<RepoFileChange> changes;
    if (!j.is_array()) return changes;
    for (const auto& e : j) {
        if (!e.is_object() || !e.contains("file") || !e.contains("original") || !e.contains("changed"))
            throw ConfigError("damaged repo changes in the journal");
        changes.push_back(
            {e.at("file").get<std::string>(), e.at("original").get<std::string>(), e.at("changed").get<std::string>()});
    }
    return changes;
}

}  // namespace airgap::repo
