#include "repo/apply/yum_repos.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "repo/repos/repo_config.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap::repo;
using airgap::test::read_file;
using airgap::test::TempDir;
using airgap::test::write_file;
namespace fs = std::filesystem;

namespace {

const char* kOvirtRepo =
    "[ovirt-4.3]\n"
    "name=Latest oVirt 4.3 Release\n"
    "mirrorlist=https://resources.ovirt.org/pub/yum-repo/mirrorlist-ovirt-4.3-el$releasever\n"
    "enabled=1\n"
    "gpgcheck=1\n"
    "\n"
    "# a comment\n"
    "[ovirt-4.3-epel]\n"
    "name=EPEL\n"
    "metalink=https://mirrors.fedoraproject.org/metalink?repo=epel-7&arch=$basearch\n"
    "gpgkey=https://a/key\n"
    "       https://b/key\n";

}  // namespace

TEST(YumRepos, DisablesEverySectionAndKeepsTheRest) {
    EXPECT_EQ(disable_all_sections(kOvirtRepo),
              "[ovirt-4.3]\n"
              "name=Latest oVirt 4.3 Release\n"
              "mirrorlist=https://resources.ovirt.org/pub/yum-repo/mirrorlist-ovirt-4.3-el$releasever\n"
              "enabled=0\n"
              "gpgcheck=1\n"
              "\n"
              "# a comment\n"
              "[ovirt-4.3-epel]\n"
              "enabled=0\n"
              "name=EPEL\n"
              "metalink=https://mirrors.fedoraproject.org/metalink?repo=epel-7&arch=$basearch\n"
              "gpgkey=https://a/key\n"
              "       https://b/key\n");
    EXPECT_EQ(disable_all_sections("[a]\nEnabled = True\n"), "[a]\nenabled=0\n");
    EXPECT_EQ(disable_all_sections("# nothing\n"), "# nothing\n");
    EXPECT_EQ(disable_all_sections("[a]\nenabled=0"), "[a]\nenabled=0");
}

TEST(YumRepos, PlansAppliesAndRestoresOtherRepos) {
    TempDir t;
    fs::path d = t.path() / "etc/yum.repos.d";
    write_file(d / "ovirt-4.3.repo", kOvirtRepo);
    write_file(d / "off.repo", "[off]\nbaseurl=http://x/\nenabled=0\n");
    write_file(d / "ovirt-airgap-1234.repo", "[ovirt-airgap-r]\nbaseurl=file:///x\n");
    write_file(d / "notes.txt", "[x]\nenabled=1\n");
    fs::permissions(d / "ovirt-4.3.repo", fs::perms(0640));
    auto changes = plan_disable_other_repos(d);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].file, d / "ovirt-4.3.repo");
    EXPECT_EQ(read_file(d / "ovirt-4.3.repo"), kOvirtRepo) << "planning writes nothing";

    EXPECT_EQ(repo_changes_from_json(repo_changes_to_json(changes)), changes);
    apply_repo_changes(changes);
    for (const auto& r : parse_repofile(d / "ovirt-4.3.repo", {})) EXPECT_FALSE(r.enabled) << r.id;
    EXPECT_EQ(fs::status(d / "ovirt-4.3.repo").permissions(), fs::perms(0640));

    EXPECT_TRUE(restore_repo_changes(changes).empty());
    EXPECT_EQ(read_file(d / "ovirt-4.3.repo"), kOvirtRepo);
    EXPECT_TRUE(restore_repo_changes(changes).empty()) << "idempotent";
    EXPECT_EQ(read_file(d / "ovirt-4.3.repo"), kOvirtRepo);
}

TEST(YumRepos, LeavesAFileAPackageRewroteDuringTheRun) {
    TempDir t;
    fs::path d = t.path() / "etc/yum.repos.d";
    write_file(d / "ovirt-4.3.repo", kOvirtRepo);
    auto changes = plan_disable_other_repos(d);
    apply_repo_changes(changes);
    write_file(d / "ovirt-4.3.repo", "[ovirt-4.3]\nname=4.3.10\n");  // ovirt-release43's update
    auto left = restore_repo_changes(changes);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0], d / "ovirt-4.3.repo");
    EXPECT_EQ(read_file(d / "ovirt-4.3.repo"), "[ovirt-4.3]\nname=4.3.10\n");
}

TEST(YumRepos, WritesTheBundleRepoFileThatYumReads) {
    TempDir t;
    BundleManifest m;
    m.id = "0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10";
    m.serial = 7;
    m.repos = {{"centos-base", "CentOS-7 - Base", "repos/centos-base", {"keys/K1", "keys/K2"}},
               {"ovirt-4.3", "oVirt", "repos/ovirt-4.3", {}}};
    fs::path file = write_bundle_repofile(t.path() / "root", m, "/var/lib/ovirt-airgap/staged/x");
    EXPECT_EQ(file, t.path() / "root/etc/yum.repos.d/ovirt-airgap-0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10.repo");
    auto repos = parse_repofile(file, {});
    ASSERT_EQ(repos.size(), 2u);
    EXPECT_EQ(repos[0].id, "ovirt-airgap-0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10-centos-base");
    EXPECT_EQ(repos[0].baseurls, std::vector<std::string>{"file:///var/lib/ovirt-airgap/staged/x/repos/centos-base"});
    EXPECT_TRUE(repos[0].gpgcheck);
    EXPECT_TRUE(repos[0].enabled);
    EXPECT_EQ(repos[0].gpgkeys, (std::vector<std::string>{"file:///var/lib/ovirt-airgap/staged/x/keys/K1",
                                                          "file:///var/lib/ovirt-airgap/staged/x/keys/K2"}));
    EXPECT_EQ(repos[1].id, "ovirt-airgap-0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10-ovirt-4.3");
    EXPECT_TRUE(repos[1].gpgcheck);
    // The bundle's own file is never among the repos disabled for the run.
    EXPECT_TRUE(plan_disable_other_repos(file.parent_path()).empty());
    remove_bundle_repofile(t.path() / "root", m.id);
    EXPECT_FALSE(fs::exists(file));
}

// EL7's yum caches a repo's metadata by repo id alone and trusts it for ever with
// metadata_expire=never: two bundles must never share a repo id.
TEST(YumRepos, TwoBundlesShareNoRepoId) {
    TempDir t;
    BundleManifest first, second;
    first.id = "0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10";
    second.id = "11111111-2222-4333-8444-555555555555";
    first.repos = second.repos = {{"centos-base", "Base", "repos/centos-base", {}},
                                  {"ovirt-4.3", "oVirt", "repos/ovirt-4.3", {}}};
    auto a = parse_repofile(write_bundle_repofile(t.path() / "a", first, "/staged"), {});
    auto b = parse_repofile(write_bundle_repofile(t.path() / "b", second, "/staged"), {});
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(b.size(), 2u);
    for (const auto& x : a)
        for (const auto& y : b) EXPECT_NE(x.id, y.id);
    for (const auto& x : a)
        EXPECT_EQ(x.id.rfind("ovirt-airgap-", 0), 0u) << "not enabled by --enablerepo=ovirt-airgap-*";
}

TEST(YumRepos, ReposWithSignedRepodataGetRepoGpgcheck) {
    BundleManifest m;
    m.id = "0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10";
    m.serial = 7;
    m.repos = {{"centos-base", "CentOS-7 - Base", "repos/centos-base", {"keys/K1"}},
               {"ovirt-4.3", "oVirt", "repos/ovirt-4.3", {"keys/K1"}}};
    const std::string digest(64, 'a');
    m.files = {{"repos/centos-base/repodata/repomd.xml", 10, digest},
               {"repos/ovirt-4.3/repodata/repomd.xml", 10, digest},
               {"repos/ovirt-4.3/Packages/repomd.xml.asc", 10, digest}};
    // Without signatures (or with a file of that name elsewhere) nothing asks for them.
    EXPECT_EQ(render_bundle_repofile(m, "/s").find("repo_gpgcheck"), std::string::npos);

    m.files.push_back({"repos/centos-base/repodata/repomd.xml.asc", 10, digest});
    std::string text = render_bundle_repofile(m, "/s");
    auto second = text.find("-ovirt-4.3]");
    ASSERT_NE(second, std::string::npos);
    EXPECT_NE(text.substr(0, second).find("\nrepo_gpgcheck=1\n"), std::string::npos) << text;
    EXPECT_EQ(text.substr(second).find("repo_gpgcheck"), std::string::npos) << text;
}

TEST(YumRepos, EarlierBundlesAreFoundByTheirRepoFilesAndNothingElse) {
    TempDir root;
    const std::string old_id = "0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10", new_id = "11111111-2222-4333-8444-555555555555";
    fs::path dir = yum_repos_dir(root.path());
    for (const std::string& name : {"ovirt-airgap-" + old_id + ".repo", "ovirt-airgap-" + new_id + ".repo",
                                    std::string("ovirt-airgap-local.repo"), std::string("CentOS-Base.repo"),
                                    "ovirt-airgap-" + old_id + ".repo.rpmsave"})
        write_file(dir / name, "[x]\n");
    EXPECT_EQ(earlier_bundle_repofiles(root.path(), new_id), std::vector<std::string>{old_id});
    EXPECT_TRUE(earlier_bundle_repofiles(root.path() / "nowhere", new_id).empty());
}

// The one reader of .repo lines that disabling repos and holding them back share.
TEST(YumRepos, ScansHeadersKeysAndTheRest) {
    auto kind = [](std::string_view line) { return scan_repo_line(line).kind; };
    EXPECT_EQ(scan_repo_line("  [ovirt-4.3] \r").name, "ovirt-4.3");
    EXPECT_EQ(kind("[ovirt-4.3]"), RepoLine::Kind::section);
    RepoLine key = scan_repo_line("Enabled = 1");
    EXPECT_EQ(key.kind, RepoLine::Kind::key);
    EXPECT_EQ(key.name, "enabled");
    EXPECT_EQ(kind("# enabled=1"), RepoLine::Kind::other);
    EXPECT_EQ(kind("; enabled=1"), RepoLine::Kind::other);
    EXPECT_EQ(kind("  enabled=1"), RepoLine::Kind::other) << "a continuation line";
    EXPECT_EQ(kind("gpgcheck"), RepoLine::Kind::other);
    EXPECT_EQ(kind(""), RepoLine::Kind::other);
    EXPECT_EQ(kind("[unclosed"), RepoLine::Kind::other);
}
