#include "bundler/report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

namespace airgap::bundler {

namespace {

// The table speaks as dnf's does ("Installing dependencies"): a dependency is a package the
// machine does not have yet. JSON keeps the short reason names.
std::string why(const std::string& reason) { return reason == "dependency" ? "new dependency" : reason; }

}  // namespace

std::string human_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return buf;
}

void print_plan_json(const repo::Plan& plan, std::ostream& out) {
    nlohmann::json packages = nlohmann::json::array();
    for (const auto& p : plan.packages)
        packages.push_back({{"nevra", p.nevra}, {"repo", p.repo}, {"size", p.download_size}, {"reason", p.reason}});
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& [id, why] : plan.skipped_repos) skipped.push_back({{"id", id}, {"reason", why}});
    nlohmann::json doc = {{"packages", packages}, {"problems", plan.problems}, {"skipped_repos", skipped}};
    out << doc.dump(2) << "\n";
}

void print_plan_table(const repo::Plan& plan, std::ostream& out) {
    for (const auto& [id, why] : plan.skipped_repos)
        out << "skipped repo " << id << " (" << why << "): nothing from it is carried\n";
    for (const auto& target : plan.targets)
        out << target.label << ": "
            << (target.resolution.ok() ? std::to_string(target.resolution.packages.size()) + " packages" : "problems")
            << "\n";
    if (plan.packages.empty()) {
        out << "Nothing to carry.\n";
        return;
    }
    std::size_t name_w = 7, ver_w = 7;
    for (const auto& p : plan.packages) {
        name_w = std::max(name_w, p.name.size());
        ver_w = std::max(ver_w, p.nevra.size() - p.name.size() - p.arch.size() - 2);
    }
    std::map<std::string, std::pair<std::size_t, std::uint64_t>> per_reason;
    std::string repo;
    std::uint64_t total = 0;
    char line[1024];
    std::snprintf(line, sizeof line, "\n %-*s  %-*s  %-7s  %10s  %s\n", int(name_w), "Package", int(ver_w), "Version",
                  "Arch", "Size", "Why");
    out << line;
    for (const auto& p : plan.packages) {
        if (p.repo != repo) {
            repo = p.repo;
            out << "Repository " << repo << ":\n";
        }
        std::string version = p.nevra.substr(p.name.size() + 1, p.nevra.size() - p.name.size() - p.arch.size() - 2);
        std::snprintf(line, sizeof line, " %-*s  %-*s  %-7s  %10s  %s\n", int(name_w), p.name.c_str(), int(ver_w),
                      version.c_str(), p.arch.c_str(), human_size(p.download_size).c_str(), why(p.reason).c_str());
        out << line;
        total += p.download_size;
        auto& r = per_reason[p.reason];
        ++r.first;
        r.second += p.download_size;
    }
    out << "\nTotal: " << plan.packages.size() << " packages, " << human_size(total);
    std::string sep = " (";
    for (const auto& [reason, count] : per_reason) {
        out << sep << count.first << " " << why(reason);
        sep = ", ";
    }
    out << ")\n";
}

}  // namespace airgap::bundler
