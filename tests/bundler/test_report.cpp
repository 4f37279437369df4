// The resolve table, rendered on a string stream: dnf's words and sections, old -> new, at most
// 80 columns, one summary per machine counted with the reasons --json gives.
#include "bundler/report.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/shared/testkit.hpp"

using namespace airgap;
using airgap::test::lines_of;

namespace {

repo::ResolvedPackage package(const std::string& name, const std::string& evr, const std::string& reason,
                              const std::string& installed = "") {
    repo::ResolvedPackage p;
    p.name = name;
    p.arch = "x86_64";
    p.nevra = name + "-" + evr + ".x86_64";
    p.repo = "centos-updates";
    p.download_size = 2048;
    p.reason = *repo::parse_package_reason(reason);
    p.installed_evr = installed;
    return p;
}

repo::Plan sample_plan() {
    repo::Plan plan;
    repo::TargetPlan engine;
    engine.label = "inventory engine.inventory (engine on engine.example)";
    engine.role = "engine";
    auto kernel = package("kernel", "3.10.0-1160.el7", "update");
    kernel.installonly = true;
    auto sdk = package("python2-ovirt-engine-sdk4", "4.3.4-1.el7", "update");
    sdk.replacing = {"python-ovirt-engine-sdk4-4.3.2-1.el7.x86_64"};
    engine.resolution.packages = {
        package("ovirt-engine", "4.3.10.4-1.el7", "update", "4.3.7.2-1.el7"),
        package("ovirt-engine-setup-plugin-ovirt-engine-common", "4.3.10.4-1.el7", "update", "4.3.7.2-1.el7"),
        package("centos-release", "7-9.2009.0.el7.centos", "update", "7-7.1908.0.el7.centos"),
        kernel,
        sdk,
        package("ovirt-engine-wildfly-overlay", "17.0.1-1.el7", "dependency")};
    repo::TargetPlan host;
    host.label = "role host";
    host.role = "host";
    host.resolution.packages = {package("vdsm", "4.30.46-1.el7", "root")};
    plan.targets = {engine, host};
    plan.packages = engine.resolution.packages;
    plan.packages.push_back(host.resolution.packages[0]);
    plan.packages.push_back(package("ovirt-engine", "4.3.7.2-1.el7", "rollback"));
    return plan;
}

std::string table(const repo::Plan& plan) {
    std::ostringstream out;
    bundler::print_plan_table(plan, out);
    return out.str();
}

// The lines of `text` from the line `from` up to the next line not starting with a space.
std::string section(const std::string& text, const std::string& from) {
    auto at = text.find("\n" + from + "\n");
    if (at == std::string::npos) return "<no section " + from + ">";
    std::string out;
    std::istringstream in(text.substr(at + from.size() + 2));
    for (std::string line; std::getline(in, line) && !line.empty() && line[0] == ' ';) out += line + "\n";
    return out;
}

TEST(ResolveTable, EveryLineFitsEightyColumns) {
    for (const auto& line : lines_of(table(sample_plan()))) EXPECT_LE(line.size(), 80u) << line;
}

TEST(ResolveTable, UsesDnfsSectionsAndShowsOldToNew) {
    std::string t = table(sample_plan());
    std::string upgrading = section(t, "Upgrading:");
    EXPECT_NE(upgrading.find(" ovirt-engine  "), std::string::npos) << t;
    EXPECT_NE(upgrading.find("4.3.7.2-1.el7 -> 4.3.10.4-1.el7"), std::string::npos) << t;
    // A version change too long for its column ends at "OLD ->" and goes on below.
    EXPECT_NE(upgrading.find("7-7.1908.0.el7.centos ->"), std::string::npos) << t;
    EXPECT_NE(upgrading.find("7-9.2009.0.el7.centos"), std::string::npos) << t;
    // An installonly kernel is installed beside the old one: dnf says Installing.
    std::string installing = section(t, "Installing:");
    EXPECT_NE(installing.find(" kernel "), std::string::npos) << t;
    EXPECT_EQ(upgrading.find("kernel"), std::string::npos) << t;
    EXPECT_NE(installing.find("     replacing  python-ovirt-engine-sdk4-4.3.2-1.el7.x86_64\n"), std::string::npos) << t;
    EXPECT_NE(section(t, "Installing dependencies:").find(" ovirt-engine-wildfly-overlay"), std::string::npos) << t;
    EXPECT_NE(t.find("\nRollback: "), std::string::npos) << t;
    EXPECT_NE(section(t, "Carrying:").find("4.3.7.2-1.el7"), std::string::npos) << t;
}

TEST(ResolveTable, OneSummaryPerMachineInTheReasonsOfJson) {
    auto lines = lines_of(table(sample_plan()));
    std::vector<std::string> summaries;
    for (const auto& line : lines)
        if (line.rfind("Summary: ", 0) == 0) summaries.push_back(line);
    EXPECT_EQ(summaries, (std::vector<std::string>{"Summary: 6 packages (5 update, 1 dependency), 12.0 KiB",
                                                   "Summary: 1 package (1 root), 2.0 KiB"}));
    EXPECT_EQ(lines.back(), "Total: 8 packages (1 root, 5 update, 1 dependency, 1 rollback), 16.0 KiB");
}

}  // namespace
