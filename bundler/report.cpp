#include "bundler/report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

namespace airgap::bundler {

namespace {

constexpr std::size_t kWidth = 80;  // a terminal's, a mail's, a printout's

// One row of a table: what dnf's transaction table shows of a package.
struct Row {
    std::string name, arch, installed, version, repo, size;
    std::vector<std::string> replacing;
};

Row row_of(const repo::ResolvedPackage& p) {
    std::string evr = p.nevra.substr(p.name.size() + 1, p.nevra.size() - p.name.size() - p.arch.size() - 2);
    return {p.name, p.arch, p.installed_evr, evr, p.repo, human_size(p.download_size), p.replacing};
}

// "OLD -> NEW", or NEW for a package the machine does not have.
std::string version_text(const Row& r) { return r.installed.empty() ? r.version : r.installed + " -> " + r.version; }

// dnf's section of a package in a machine's transaction: a new kernel beside the old one is
// "Installing", as dnf shows installonly packages.
std::string section_of(const repo::ResolvedPackage& p) {
    if (p.reason == repo::PackageReason::dependency) return "Installing dependencies";
    if (p.reason == repo::PackageReason::update && !p.installonly && !p.installed_evr.empty()) return "Upgrading";
    return "Installing";
}

// Sections in dnf's order, each row within kWidth columns: a name too long for its column gets
// a line of its own (as dnf does), and an "OLD -> NEW" too long for its column ends the line
// at "OLD ->" and puts NEW below it.
void print_sections(const std::vector<std::pair<std::string, std::vector<Row>>>& sections, std::ostream& out) {
    std::size_t name_w = 7, arch_w = 4, full_w = 7, wrapped_w = 7, repo_w = 10, size_w = 4;
    for (const auto& [title, rows] : sections)
        for (const auto& r : rows) {
            name_w = std::max(name_w, r.name.size());
            arch_w = std::max(arch_w, r.arch.size());
            full_w = std::max(full_w, version_text(r).size());
            wrapped_w = std::max({wrapped_w, r.version.size(), r.installed.empty() ? 0 : r.installed.size() + 3});
            repo_w = std::max(repo_w, r.repo.size());
            size_w = std::max(size_w, r.size.size());
        }
    // The split of the width between names and versions that wraps the fewest rows.
    const std::size_t fixed = 1 + 2 + arch_w + 2 + 2 + repo_w + 2 + size_w;
    const std::size_t longest_name = name_w;
    std::size_t ver_w = wrapped_w, fewest = static_cast<std::size_t>(-1);
    name_w = kWidth > fixed + wrapped_w + 12 ? kWidth - fixed - wrapped_w : 12;
    for (std::size_t n = 12; n <= longest_name && fixed + n + wrapped_w <= kWidth; ++n) {
        std::size_t v = std::min(full_w, kWidth - fixed - n), wraps = 0;
        for (const auto& [title, rows] : sections)
            for (const auto& r : rows) wraps += (r.name.size() > n) + (version_text(r).size() > v);
        if (wraps <= fewest) {
            fewest = wraps;
            name_w = n;
            ver_w = v;
        }
    }
    auto columns = [&](const std::string& arch, const std::string& version, const std::string& repo,
                       const std::string& size) {
        char line[512];
        std::snprintf(line, sizeof line, "  %-*s  %-*s  %-*s  %*s", int(arch_w), arch.c_str(), int(ver_w),
                      version.c_str(), int(repo_w), repo.c_str(), int(size_w), size.c_str());
        return std::string(line);
    };
    auto name_column = [&](const std::string& name) {
        if (name.size() > name_w) return " " + name + "\n" + std::string(1 + name_w, ' ');
        return " " + name + std::string(name_w - name.size(), ' ');
    };
    out << name_column("Package") << columns("Arch", "Version", "Repository", "Size") << "\n";
    for (const auto& [title, rows] : sections) {
        if (rows.empty()) continue;
        out << title << ":\n";
        for (const auto& r : rows) {
            std::string version = version_text(r);
            bool wrap = version.size() > ver_w;
            out << name_column(r.name) << columns(r.arch, wrap ? r.installed + " ->" : version, r.repo, r.size) << "\n";
            if (wrap) out << std::string(1 + name_w + 2 + arch_w + 2, ' ') << r.version << "\n";
            for (const auto& old : r.replacing) out << "     replacing  " << old << "\n";
        }
    }
}

// "25 packages (24 update, 1 dependency), 150.3 KiB": counted by the reasons --json gives.
std::string summary(const std::vector<repo::ResolvedPackage>& packages) {
    std::map<repo::PackageReason, std::size_t> per_reason;
    std::uint64_t bytes = 0;
    for (const auto& p : packages) {
        ++per_reason[p.reason];
        bytes += p.download_size;
    }
    std::string text = std::to_string(packages.size()) + (packages.size() == 1 ? " package" : " packages");
    std::string sep = " (";
    for (auto reason : {repo::PackageReason::root, repo::PackageReason::update, repo::PackageReason::dependency,
                        repo::PackageReason::rollback})
        if (per_reason.count(reason)) {
            text += sep + std::to_string(per_reason[reason]) + " " + std::string(repo::to_string(reason));
            sep = ", ";
        }
    if (sep == ", ") text += ")";
    return text + ", " + human_size(bytes);
}

}  // namespace

void print_plan_json(const repo::Plan& plan, std::ostream& out) {
    nlohmann::json packages = nlohmann::json::array();
    for (const auto& p : plan.packages)
        packages.push_back(
            {{"nevra", p.nevra}, {"repo", p.repo}, {"size", p.download_size}, {"reason", repo::to_string(p.reason)}});
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& [id, why] : plan.skipped_repos) skipped.push_back({{"id", id}, {"reason", why}});
    nlohmann::json doc = {
        {"packages", packages}, {"problems", plan.problems}, {"skipped_repos", skipped}, {"locked", plan.locked}};
    out << doc.dump(2) << "\n";
}

void print_plan_table(const repo::Plan& plan, std::ostream& out) {
    for (const auto& [id, why] : plan.skipped_repos)
        out << "skipped repo " << id << " (" << why << "): nothing from it is carried\n";
    // One table per machine: what dnf would show there, with its own old -> new versions.
    for (const auto& target : plan.targets) {
        out << target.label << "\n";
        std::vector<std::pair<std::string, std::vector<Row>>> sections = {
            {"Installing", {}}, {"Upgrading", {}}, {"Installing dependencies", {}}};
        for (const auto& p : target.resolution.packages)
            for (auto& [title, rows] : sections)
                if (title == section_of(p)) rows.push_back(row_of(p));
        if (target.resolution.packages.empty())
            out << "Nothing to do.\n";
        else
            print_sections(sections, out);
        out << "Summary: " << summary(target.resolution.packages) << "\n";
        // A Node's version lock holds these back: `yum update` there would not take them either.
        const auto& locked = target.resolution.locked;
        if (!locked.empty()) out << locked.size() << " locked on a Node (not carried):\n";
        for (const auto& held : locked) out << "  locked: " << held << "\n";
        out << "\n";
    }
    std::vector<repo::ResolvedPackage> rollback;
    for (const auto& p : plan.packages)
        if (p.reason == repo::PackageReason::rollback) rollback.push_back(p);
    if (!rollback.empty()) {
        out << "Rollback: the installed versions engine-setup rolls back to if the update fails\n";
        std::vector<Row> rows;
        for (const auto& p : rollback) rows.push_back(row_of(p));
        print_sections({{"Carrying", rows}}, out);
        out << "\n";
    }
    out << "Total: " << summary(plan.packages) << "\n";
}

}  // namespace airgap::bundler
