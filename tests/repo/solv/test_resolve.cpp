// Resolution on checked-in testtags fixtures (tests/data/testtags/README lists the traps).
#include "repo/solv/resolve.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "repo/base/error.hpp"
#include "tests/shared/repo_configs.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using airgap::repo::outranks;
using airgap::repo::PackageReason;
using airgap::repo::parse_package_reason;
using airgap::repo::RepoConfig;
using airgap::repo::Resolution;
using airgap::repo::SolvPool;
using airgap::test::repo_config;

namespace {

fs::path tags(const std::string& name) { return airgap::test::source_path("tests/data/testtags/" + name); }

// nevra -> "repo reason", the whole result at once so that a failure shows all of it.
std::map<std::string, std::string> carried(const Resolution& r) {
    std::map<std::string, std::string> out;
    for (const auto& p : r.packages) out[p.nevra] = p.repo + " " + std::string(to_string(p.reason));
    return out;
}

std::string problems(const Resolution& r) {
    std::string out;
    for (const auto& p : r.problems) out += p + "\n";
    return out;
}

// The EL7 machine of installed.tags, with base and an EPEL-like repo limited by includepkgs.
SolvPool site_pool() {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base"), tags("base.tags"));
    pool.add_testtags_repo(repo_config("epel", {"ansible", "nbdkit*"}), tags("epel.tags"));
    pool.set_installed_testtags(tags("installed.tags"));
    return pool;
}

}  // namespace

TEST(ResolveUpdate, CarriesExactlyWhatYumUpdateInstalls) {
    SolvPool pool = site_pool();
    Resolution r = airgap::repo::resolve_update(pool);
    ASSERT_TRUE(r.ok()) << problems(r);
    std::map<std::string, std::string> expected = {
        {"bash-4.2-2.el7.x86_64", "base update"},
        {"foo-1.1-1.el7.x86_64", "base update"},        // not epel's 9.0: includepkgs hides it
        {"nbdkit-1.8-1.el7.x86_64", "epel update"},     // nbdkit* is included
        {"kernel-3.10.0-3.el7.x86_64", "base update"},  // newest only, beside the old one
        {"newname-2.0-1.el7.noarch", "base update"},    // obsoletes oldname
        {"app-2.0-1.el7.x86_64", "base update"},
        {"libbar-1.0-1.el7.x86_64", "base dependency"},  // not libbar.i686
        {"legacy-2.0-1.el7.x86_64", "base update"},
        {"libold-1.0-1.el7.i686", "base dependency"},  // multilib because something needs it
        {"tool-2.0-1.el7.noarch", "base update"},
        {"tool-helper-1.0-1.el7.x86_64", "base dependency"},  // provides a file only its file list names
    };
    EXPECT_EQ(carried(r), expected);
    // The old kernel stays installed; everything else updated is replaced.
    EXPECT_EQ(r.replaced,
              (std::vector<std::string>{"app-1.0-1.el7.x86_64", "bash-4.2-1.el7.x86_64", "foo-1.0-1.el7.x86_64",
                                        "legacy-1.0-1.el7.x86_64", "nbdkit-1.0-1.el7.x86_64",
                                        "oldname-1.0-1.el7.noarch", "tool-1.0-1.el7.noarch"}));
}

TEST(ResolveUpdate, PackagesAreSortedAndSplitIntoNevraFields) {
    SolvPool pool = site_pool();
    Resolution r = airgap::repo::resolve_update(pool);
    ASSERT_TRUE(r.ok()) << problems(r);
    ASSERT_FALSE(r.packages.empty());
    for (std::size_t i = 1; i < r.packages.size(); ++i) EXPECT_LT(r.packages[i - 1].nevra, r.packages[i].nevra);
    const auto& kernel =
        *std::find_if(r.packages.begin(), r.packages.end(), [](const auto& p) { return p.name == "kernel"; });
    EXPECT_EQ(kernel.epoch, 0u);
    EXPECT_EQ(kernel.version, "3.10.0");
    EXPECT_EQ(kernel.release, "3.el7");
    EXPECT_EQ(kernel.arch, "x86_64");
}

TEST(ResolveUpdate, WithoutInstallonlyTheKernelIsAPlainUpdate) {
    SolvPool pool = site_pool();
    pool.set_installonly({});
    Resolution r = airgap::repo::resolve_update(pool);
    ASSERT_TRUE(r.ok()) << problems(r);
    EXPECT_EQ(carried(r).at("kernel-3.10.0-3.el7.x86_64"), "base update");
    EXPECT_NE(std::find(r.replaced.begin(), r.replaced.end(), "kernel-3.10.0-1.el7.x86_64"), r.replaced.end());
}

TEST(ResolveUpdate, ExcludepkgsHidesAnUpdate) {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base", {}, {"foo", "kernel*"}), tags("base.tags"));
    pool.set_installed_testtags(tags("installed.tags"));
    Resolution r = airgap::repo::resolve_update(pool);
    ASSERT_TRUE(r.ok()) << problems(r);
    auto got = carried(r);
    EXPECT_EQ(got.count("foo-1.1-1.el7.x86_64"), 0u);
    EXPECT_EQ(got.count("kernel-3.10.0-3.el7.x86_64"), 0u);
    EXPECT_EQ(got.count("bash-4.2-2.el7.x86_64"), 1u);
}

TEST(ResolveUpdate, NewestVersionThatCannotInstallIsAProblemNotAPartialResult) {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base"), tags("broken.tags"));
    pool.set_installed_testtags(tags("installed-broken.tags"));
    Resolution r = airgap::repo::resolve_update(pool);
    EXPECT_TRUE(r.packages.empty());
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0],
              "Problem 1: cannot install the best update candidate for package broken-1.0-1.el7.x86_64\n"
              "  - nothing provides missing-lib needed by broken-2.0-1.el7.x86_64");
}

TEST(ResolveUpdate, WritesATestcaseForAFailingResolution) {
    airgap::test::TempDir tmp;
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base"), tags("broken.tags"));
    pool.set_installed_testtags(tags("installed-broken.tags"));
    airgap::repo::ResolveOptions options;
    options.debug_dir = tmp.path() / "debugdata";
    Resolution r = airgap::repo::resolve_update(pool, options);
    EXPECT_FALSE(r.ok());
    ASSERT_TRUE(fs::exists(options.debug_dir / "testcase.t"));
    auto replay = airgap::test::run_command(
        {"sh", "-c", "grep -c '^job update all' " + (options.debug_dir / "testcase.t").string()});
    EXPECT_EQ(replay.out, "1\n");
}

TEST(ResolveUpdate, NoTestcaseForASuccessByDefault) {
    airgap::test::TempDir tmp;
    SolvPool pool = site_pool();
    airgap::repo::ResolveOptions options;
    options.debug_dir = tmp.path() / "debugdata";
    EXPECT_TRUE(airgap::repo::resolve_update(pool, options).ok());
    EXPECT_FALSE(fs::exists(options.debug_dir));
}

TEST(ResolveUpdate, NeedsAnInstalledSystem) {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base"), tags("base.tags"));
    EXPECT_THROW(airgap::repo::resolve_update(pool), std::logic_error);
}

TEST(ResolveInstall, RootsOnAnEmptySystem) {
    SolvPool pool = site_pool();  // the installed system must not matter
    Resolution r = airgap::repo::resolve_install(pool, {"app", "legacy", "tool"});
    ASSERT_TRUE(r.ok()) << problems(r);
    std::map<std::string, std::string> expected = {
        {"app-2.0-1.el7.x86_64", "base root"},        {"libbar-1.0-1.el7.x86_64", "base dependency"},
        {"legacy-2.0-1.el7.x86_64", "base root"},     {"libold-1.0-1.el7.i686", "base dependency"},
        {"tool-2.0-1.el7.noarch", "base root"},       {"tool-helper-1.0-1.el7.x86_64", "base dependency"},
        {"bash-4.2-2.el7.x86_64", "base dependency"},  // /bin/sh
    };
    EXPECT_EQ(carried(r), expected);
    // The pool still knows its installed system afterwards.
    EXPECT_EQ(pool.installed_packages().size(), 9u);
}

TEST(ResolveInstall, IncludepkgsAppliesToRoots) {
    SolvPool pool = site_pool();
    Resolution r = airgap::repo::resolve_install(pool, {"foo", "ansible"});
    ASSERT_TRUE(r.ok()) << problems(r);
    std::map<std::string, std::string> expected = {
        {"foo-1.1-1.el7.x86_64", "base root"},
        {"ansible-2.9.27-1.el7.noarch", "epel root"},
    };
    EXPECT_EQ(carried(r), expected);
}

TEST(ResolveInstall, UnknownRootIsAProblem) {
    SolvPool pool = site_pool();
    Resolution r = airgap::repo::resolve_install(pool, {"app", "no-such-package"});
    EXPECT_TRUE(r.packages.empty());
    ASSERT_EQ(r.problems.size(), 1u) << problems(r);
    EXPECT_EQ(r.problems[0], "Problem 1: nothing provides requested no-such-package");
}

TEST(ResolveInstall, ArchOfTheTargetApplies) {
    // An i686 target cannot take x86_64 packages: app's only build is x86_64.
    SolvPool pool("i686");
    pool.add_testtags_repo(repo_config("base"), tags("base.tags"));
    Resolution r = airgap::repo::resolve_install(pool, {"libbar"});
    ASSERT_TRUE(r.ok()) << problems(r);
    std::map<std::string, std::string> expected = {{"libbar-1.0-1.el7.i686", "base root"}};
    EXPECT_EQ(carried(r), expected);
    Resolution app = airgap::repo::resolve_install(pool, {"app"});
    EXPECT_FALSE(app.ok());
}

TEST(InstalledCopies, FindsTheRepoCopiesOfInstalledVersions) {
    SolvPool pool = site_pool();
    auto copies = airgap::repo::find_installed_copies(pool, {"foo", "k*", "tool"});
    std::map<std::string, std::string> expected = {
        {"foo-1.0-1.el7.x86_64", "base installed"},
        {"kernel-3.10.0-1.el7.x86_64", "base installed"},
        {"tool-1.0-1.el7.noarch", "base installed"},
    };
    EXPECT_EQ(carried(Resolution{copies.packages, {}, {}, {}}), expected);
    EXPECT_TRUE(copies.missing.empty());
}

TEST(InstalledCopies, ReportsWhatNoRepoCarriesOrFiltersHide) {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base", {}, {"foo"}), tags("base.tags"));
    pool.add_testtags_repo(repo_config("other"), tags("broken.tags"));
    pool.set_installed_testtags(tags("installed.tags"));
    auto copies = airgap::repo::find_installed_copies(pool, {"foo", "bash"});
    std::map<std::string, std::string> expected = {{"bash-4.2-1.el7.x86_64", "base installed"}};
    EXPECT_EQ(carried(Resolution{copies.packages, {}, {}, {}}), expected);
    EXPECT_EQ(copies.missing, std::vector<std::string>{"foo-1.0-1.el7.x86_64"});
}

TEST(ResolveUpdate, MultilibPairsUpdateSideBySide) {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base"), tags("multilib.tags"));
    pool.set_installed_testtags(tags("multilib-installed.tags"));
    Resolution r = airgap::repo::resolve_update(pool);
    ASSERT_TRUE(r.ok()) << problems(r);
    std::map<std::string, std::string> expected = {
        {"libpair-1.1-1.el7.i686", "base update"},
        {"libpair-1.1-1.el7.x86_64", "base update"},
        {"only64-1.1-1.el7.x86_64", "base update"},
    };
    EXPECT_EQ(carried(r), expected);
}

namespace {

SolvPool node_pool() {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("ovirt-4.3"), tags("node-repo.tags"));
    pool.set_installed_testtags(tags("node-installed.tags"));
    return pool;
}

}  // namespace

TEST(ResolveNodeUpdate, CarriesOnlyTheImageUpdateAndWhatItNeeds) {
    SolvPool pool = node_pool();
    Resolution r = airgap::repo::resolve_node_update(pool, {});
    ASSERT_TRUE(r.ok()) << problems(r);
    std::map<std::string, std::string> expected = {
        {"ovirt-node-ng-image-update-4.3.10-1.el7.noarch", "ovirt-4.3 update"},
        {"node-update-helper-1.0-1.el7.noarch", "ovirt-4.3 dependency"},
    };
    EXPECT_EQ(carried(r), expected);
    EXPECT_EQ(r.replaced, std::vector<std::string>{"ovirt-node-ng-image-update-4.3.9-1.el7.noarch"});
    // Held back by the lock, and said so; newlib (obsoletes the held oldlib) is hidden with it.
    EXPECT_EQ(r.locked, (std::vector<std::string>{"imgbased-1.1.14-1.el7.noarch (newer: 1.1.15-1.el7)",
                                                  "kernel-3.10.0-1062.el7.x86_64 (newer: 3.10.0-1127.el7)",
                                                  "mytool-1.0-1.el7.x86_64 (newer: 1.1-1.el7)",
                                                  "vdsm-4.30.43-1.el7.x86_64 (newer: 4.30.44-1.el7)"}));
}

TEST(ResolveNodeUpdate, UpdatesAPersistedPackageOnlyWhenAsked) {
    SolvPool pool = node_pool();
    Resolution r = airgap::repo::resolve_node_update(pool, {"mytool"});
    ASSERT_TRUE(r.ok()) << problems(r);
    std::map<std::string, std::string> expected = {
        {"ovirt-node-ng-image-update-4.3.10-1.el7.noarch", "ovirt-4.3 update"},
        {"node-update-helper-1.0-1.el7.noarch", "ovirt-4.3 dependency"},
        {"mytool-1.1-1.el7.x86_64", "ovirt-4.3 update"},
    };
    EXPECT_EQ(carried(r), expected);
    EXPECT_EQ(r.locked.size(), 3u);
}

TEST(ResolveNodeUpdate, AnImageUpdateNeedingAHeldVersionIsAProblem) {
    // What yum says on a Node when the new image-update wants a newer vdsm than the lock lets
    // through: the lock is an exclusion, so nothing provides it.
    airgap::test::TempDir dir;
    fs::path repo_tags = dir.path() / "repo.tags";
    airgap::test::write_file(repo_tags,
                             "=Ver: 3.0 addselfprovides\n"
                             "=Pkg: ovirt-node-ng-image-update 4.3.10 1.el7 noarch\n+Req:\nvdsm >= 4.30.44\n-Req:\n"
                             "=Pkg: vdsm 4.30.44 1.el7 x86_64\n");
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("ovirt-4.3"), repo_tags);
    pool.set_installed_testtags(tags("node-installed.tags"));
    Resolution r = airgap::repo::resolve_node_update(pool, {});
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.packages.empty());
    EXPECT_NE(problems(r).find("vdsm >= 4.30.44"), std::string::npos) << problems(r);
}

// The words are those of `resolve --json`, the tables and bundle.json; the order is the rank by
// which one package carried for several machines shows its strongest reason.
TEST(PackageReason, WordsRoundTripAndRankInDeclaredOrder) {
    using R = PackageReason;
    const std::vector<std::pair<R, std::string>> words = {{R::root, "root"},
                                                          {R::update, "update"},
                                                          {R::dependency, "dependency"},
                                                          {R::rollback, "rollback"},
                                                          {R::installed, "installed"}};
    for (const auto& [reason, word] : words) {
        EXPECT_EQ(to_string(reason), word);
        EXPECT_EQ(parse_package_reason(word), reason) << word;
    }
    EXPECT_EQ(parse_package_reason("Root"), std::nullopt);
    EXPECT_EQ(parse_package_reason(""), std::nullopt);
    EXPECT_TRUE(outranks(R::root, R::update));
    EXPECT_TRUE(outranks(R::update, R::dependency));
    EXPECT_TRUE(outranks(R::dependency, R::rollback));
    EXPECT_FALSE(outranks(R::rollback, R::dependency));
    EXPECT_FALSE(outranks(R::update, R::update));
    // By string compare "dependency" < "root" < "update": the rank is not the alphabet.
    EXPECT_TRUE(outranks(R::root, R::dependency));
}
