// End to end: `ovirt-applier inventory` of a 4.3.7 root, then `ovirt-bundler resolve` over
// HTTP against the test world, compared with what real dnf does on the same root and repos.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/shared/http_server.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

// The world's repos served over HTTP on loopback, and the resolve command line that uses them.
class ResolveE2E : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        server_ = std::make_unique<HttpServer>(world_dir() / "repos");
    }

    // ovirt-bundler resolve -m MANIFEST --repo-url ID=http://127.0.0.1:PORT/ID... --cache DIR ARGS...
    CommandResult resolve(const std::vector<std::string>& args, const fs::path& manifest = {}) {
        std::vector<std::string> argv = {binary("ovirt-bundler").string(), "resolve", "-m",
                                         (manifest.empty() ? world_dir() / "manifest.yaml" : manifest).string()};
        for (const auto& arg : world_repo_url_args(server_->url())) argv.push_back(arg);
        argv.insert(argv.end(), {"--cache", (tmp_.path() / "cache").string()});
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }

    // ovirt-applier inventory --role ROLE --root ROOT -o TMP/ROLE.inventory
    fs::path inventory(const std::string& role, const fs::path& root) {
        fs::path file = tmp_.path() / (role + ".inventory");
        CommandResult r =
            run_binary("ovirt-applier", {"inventory", "--role", role, "--root", root.string(), "-o", file.string()});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return file;
    }

    TempDir tmp_;
    std::unique_ptr<HttpServer> server_;
};

// The NEVRAs of `resolve --json` output, sorted; fails the test on malformed JSON.
std::vector<std::string> json_nevras(const std::string& out, std::vector<std::string>* problems = nullptr) {
    std::vector<std::string> nevras;
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "resolve --json printed no JSON (" << e.what() << "): " << out;
        return nevras;
    }
    EXPECT_TRUE(doc.contains("packages") && doc["packages"].is_array()) << out;
    EXPECT_TRUE(doc.contains("problems") && doc["problems"].is_array()) << out;
    for (const auto& p : doc.value("packages", nlohmann::json::array())) {
        for (const char* key : {"nevra", "repo", "size", "reason"}) EXPECT_TRUE(p.contains(key)) << key << ": " << p;
        nevras.push_back(p.value("nevra", ""));
        EXPECT_TRUE(std::count(world_repos().begin(), world_repos().end(), p.value("repo", ""))) << p;
    }
    if (problems)
        for (const auto& text : doc.value("problems", nlohmann::json::array()))
            problems->push_back(text.get<std::string>());
    std::sort(nevras.begin(), nevras.end());
    return nevras;
}

// What `dnf upgrade` would install or upgrade on `root` (a copy), from its transaction table.
std::vector<std::string> dnf_upgrade(const fs::path& root) {
    std::vector<std::string> argv = world_dnf(root);
    argv.insert(argv.end(), {"upgrade", "--assumeno"});
    CommandResult r = run_command(argv);
    EXPECT_NE((r.out + r.err).find("Operation aborted."), std::string::npos) << r.out << r.err;
    return dnf_transaction_packages(r.out);
}

// What `dnf install ROOTS...` would install on an empty system.
std::vector<std::string> dnf_install_on_empty(const fs::path& root, const std::vector<std::string>& packages) {
    fs::create_directories(root);
    std::vector<std::string> argv = world_dnf(root);
    argv.insert(argv.end(), {"--setopt=install_weak_deps=False", "install", "--assumeno"});
    argv.insert(argv.end(), packages.begin(), packages.end());
    CommandResult r = run_command(argv);
    EXPECT_NE((r.out + r.err).find("Operation aborted."), std::string::npos) << r.out << r.err;
    return dnf_transaction_packages(r.out);
}

// resolve may also carry installed engine packages (the rollback set engine-setup needs: its
// own packages and those its product upgrade changes, ovirt-web-ui here): split those off and
// check they are only that.
std::vector<std::string> without_installed(const std::vector<std::string>& resolved,
                                           const std::vector<std::string>& installed) {
    std::vector<std::string> fresh, carried;
    for (const auto& nevra : resolved)
        (std::binary_search(installed.begin(), installed.end(), nevra) ? carried : fresh).push_back(nevra);
    for (const auto& nevra : carried)
        EXPECT_TRUE(nevra.rfind("ovirt-engine", 0) == 0 || nevra.rfind("ovirt-web-ui", 0) == 0)
            << "carried but installed: " << nevra;
    return fresh;
}

void expect_update_matches_dnf(ResolveE2E* test, const std::string& role, const std::string& root_name,
                               const fs::path& dir) {
    fs::path root = copy_world_root(root_name, dir);
    std::vector<std::string> installed = installed_nevras(root);
    fs::path inv = test->inventory(role, root);
    CommandResult r = test->resolve({"--inventory", inv.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> problems;
    std::vector<std::string> resolved = json_nevras(r.out, &problems);
    EXPECT_TRUE(problems.empty()) << r.out;

    std::vector<std::string> expected = dnf_upgrade(root);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(without_installed(resolved, installed), expected) << r.out;
}

TEST_F(ResolveE2E, EngineInventoryResolvesToWhatDnfUpgrades) {
    expect_update_matches_dnf(this, "engine", "engine-4.3.7", tmp_.path());
}

TEST_F(ResolveE2E, HostInventoryResolvesToWhatDnfUpgrades) {
    expect_update_matches_dnf(this, "host", "host-4.3.7", tmp_.path());
}

TEST_F(ResolveE2E, EngineAndHostInventoriesTogetherResolveToTheUnion) {
    fs::path engine = copy_world_root("engine-4.3.7", tmp_.path());
    fs::path host = copy_world_root("host-4.3.7", tmp_.path());
    CommandResult r = resolve({"--inventory", inventory("engine", engine).string(), "--inventory",
                               inventory("host", host).string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> resolved = json_nevras(r.out);
    std::set<std::string> expected;
    for (const auto& root : {engine, host})
        for (const auto& nevra : dnf_upgrade(root)) expected.insert(nevra);
    std::vector<std::string> installed = installed_nevras(engine);
    EXPECT_EQ(without_installed(resolved, installed), std::vector<std::string>(expected.begin(), expected.end()));
}

TEST_F(ResolveE2E, TrapsAreAvoided) {
    fs::path root = copy_world_root("engine-4.3.7", tmp_.path());
    CommandResult r = resolve({"--inventory", inventory("engine", root).string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> resolved = json_nevras(r.out);
    auto has = [&](const std::string& nevra) { return std::binary_search(resolved.begin(), resolved.end(), nevra); };
    EXPECT_FALSE(has("python-jinja2-2.10.1-2.el7.noarch")) << "includepkgs ignored";
    EXPECT_FALSE(has("glibc-2.17-326.el7_9.i686")) << "multilib pulled without need";
    EXPECT_FALSE(has("openssl-libs-1:1.0.2k-21.el7_9.i686")) << "multilib pulled without need";
    EXPECT_FALSE(has("bpftool-3.10.0-1160.119.1.el7.x86_64")) << "an update nothing needs";
    EXPECT_TRUE(has("ovirt-engine-wildfly-overlay-17.0.1-1.el7.noarch")) << "filelists-only requirement";
    EXPECT_TRUE(has("python2-ovirt-engine-sdk4-4.3.4-1.el7.x86_64")) << "obsoletes";
    EXPECT_TRUE(has("kernel-3.10.0-1160.el7.x86_64")) << "installonly";
}

// engine-setup's own transaction (its product packages and what they require) needs each
// installed version it changes: resolve shows them as rollback, ovirt-web-ui among them.
TEST_F(ResolveE2E, ShowsEngineSetupsRollbackSet) {
    fs::path root = copy_world_root("engine-4.3.7", tmp_.path());
    CommandResult r = resolve({"--inventory", inventory("engine", root).string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::map<std::string, std::string> reasons;
    nlohmann::json doc = nlohmann::json::parse(r.out);
    for (const auto& p : doc["packages"]) reasons[p["nevra"]] = p["reason"];
    EXPECT_EQ(reasons["ovirt-web-ui-1.6.0-1.el7.noarch"], "rollback") << r.out;
    EXPECT_EQ(reasons["ovirt-engine-4.3.7.2-1.el7.noarch"], "rollback");
    EXPECT_EQ(reasons["ovirt-web-ui-1.6.3-1.el7.noarch"], "update");
    CommandResult text = resolve({"--inventory", inventory("engine", root).string()});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    // In the table's Rollback section, after every machine's own table.
    auto rollback = text.out.find("\nRollback");
    ASSERT_NE(rollback, std::string::npos) << text.out;
    bool shown = false;
    for (const auto& line : lines_of(text.out.substr(rollback)))
        shown = shown || (line.find("ovirt-web-ui") != std::string::npos && line.find("1.6.0") != std::string::npos);
    EXPECT_TRUE(shown) << text.out;
}

// resolve names every repo it had to skip, in the table and in --json.
TEST_F(ResolveE2E, NamesEverySkippedRepo) {
    fs::path repofile = tmp_.path() / "extra.repo";
    write_file(repofile,
               "[extra-unreachable]\nname=nothing answers here\nbaseurl=http://127.0.0.1:1/extra/\n"
               "skip_if_unavailable=1\ngpgcheck=0\n");
    CommandResult r = resolve({"--role", "host", "--repofile", repofile.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_of(r.out).at(0).rfind("skipped repo extra-unreachable (", 0), 0u) << r.out;
    CommandResult j = resolve({"--role", "host", "--repofile", repofile.string(), "--json"});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    nlohmann::json doc = nlohmann::json::parse(j.out);
    ASSERT_EQ(doc["skipped_repos"].size(), 1u) << j.out;
    EXPECT_EQ(doc["skipped_repos"][0]["id"], "extra-unreachable");
}

TEST_F(ResolveE2E, RolesWithoutInventoryResolveToWhatDnfInstallsOnAnEmptySystem) {
    for (const auto& [role, roots] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"engine", {"ovirt-engine", "ovirt-engine-setup"}}, {"host", {"ovirt-host", "vdsm"}}}) {
        CommandResult r = resolve({"--role", role, "--json"});
        ASSERT_EQ(r.exit_code, 0) << role << ": " << r.out << r.err;
        EXPECT_EQ(json_nevras(r.out), dnf_install_on_empty(tmp_.path() / ("empty-" + role), roots)) << role;
    }
}

TEST_F(ResolveE2E, UnknownRoleIsAUsageError) {
    CommandResult r = resolve({"--role", "frobnicator", "--json"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("frobnicator"), std::string::npos) << r.err;
}

TEST_F(ResolveE2E, InventoryOfAnotherArchIsRefused) {
    fs::path root = copy_world_root("host-4.3.7", tmp_.path());
    std::string text = read_file(inventory("host", root));
    ASSERT_NE(text.find("x86_64"), std::string::npos);
    text = std::regex_replace(text, std::regex("x86_64"), "aarch64");
    fs::path other = tmp_.path() / "aarch64.inventory";
    write_file(other, text);
    CommandResult r = resolve({"--inventory", other.string()});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("aarch64"), std::string::npos) << r.err;
}

TEST_F(ResolveE2E, NotAnInventoryIsRefused) {
    fs::path bogus = tmp_.path() / "bogus.inventory";
    write_file(bogus, "this is not an inventory\n");
    CommandResult r = resolve({"--inventory", bogus.string()});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
}

TEST_F(ResolveE2E, UnknownRootPackageIsADependencyProblem) {
    std::string manifest = read_file(world_dir() / "manifest.yaml");
    const std::string engine = "engine: {roots: [ovirt-engine, ovirt-engine-setup]}";
    ASSERT_NE(manifest.find(engine), std::string::npos);
    manifest.replace(manifest.find(engine), engine.size(), "engine: {roots: [ovirt-engine, no-such-package]}");
    fs::path changed = tmp_.path() / "manifest.yaml";
    write_file(changed, manifest);

    CommandResult r = resolve({"--role", "engine"}, changed);
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("no-such-package"), std::string::npos) << r.out << r.err;

    CommandResult j = resolve({"--role", "engine", "--json"}, changed);
    EXPECT_EQ(j.exit_code, 3) << j.out << j.err;
    std::vector<std::string> problems;
    json_nevras(j.out, &problems);
    ASSERT_FALSE(problems.empty()) << j.out;
    EXPECT_NE(problems.front().find("no-such-package"), std::string::npos) << j.out;
}

}  // namespace
