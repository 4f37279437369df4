#include "repo/repos/repo_config.hpp"

#include <gtest/gtest.h>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;

namespace {

const Vars kVars = {{"releasever", "7"}, {"basearch", "x86_64"}};

std::string data(const std::string& name) { return test::source_path("tests/data/repofiles/" + name).string(); }

// The one-line message a ConfigError from parse_repofile carries.
std::string parse_error(const std::string& name) {
    try {
        parse_repofile(data(name), kVars);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

const RepoConfig& by_id(const std::vector<RepoConfig>& repos, const std::string& id) {
    for (const auto& r : repos)
        if (r.id == id) return r;
    throw std::runtime_error("no repo " + id);
}

}  // namespace

TEST(SubstituteVars, ReplacesKnownVariablesInBothSpellings) {
    EXPECT_EQ(substitute_vars("el$releasever/$basearch/${releasever}x", kVars), "el7/x86_64/7x");
}

TEST(SubstituteVars, LeavesUnknownAndPartialNamesAlone) {
    // yum takes the longest word after '$': $releasever7 is another (unknown) variable.
    EXPECT_EQ(substitute_vars("$infra/$releasever7/${basearch/$/$$", kVars), "$infra/$releasever7/${basearch/$/$$");
}

TEST(YumValues, BooleansAndLists) {
    EXPECT_EQ(parse_yum_bool("1"), true);
    EXPECT_EQ(parse_yum_bool("True"), true);
    EXPECT_EQ(parse_yum_bool(" yes "), true);
    EXPECT_EQ(parse_yum_bool("0"), false);
    EXPECT_EQ(parse_yum_bool("FALSE"), false);
    EXPECT_EQ(parse_yum_bool("off"), false);
    EXPECT_EQ(parse_yum_bool("2"), std::nullopt);
    EXPECT_EQ(split_yum_list(" a, b c,,\n d\t"), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(ParseRepofile, OvirtReleaseMainRepo) {
    auto repos = parse_repofile(data("ovirt-4.3.repo"), kVars);
    ASSERT_EQ(repos.size(), 1u);
    const auto& r = repos[0];
    EXPECT_EQ(r.id, "ovirt-4.3");
    EXPECT_EQ(r.name, "Latest oVirt 4.3 Release");
    EXPECT_EQ(r.mirrorlist, "https://resources.ovirt.org/pub/yum-repo/mirrorlist-ovirt-4.3-el7");
    EXPECT_TRUE(r.baseurls.empty()) << "the commented-out baseurl must stay a comment";
    EXPECT_TRUE(r.enabled);
    EXPECT_TRUE(r.gpgcheck);
    EXPECT_TRUE(r.skip_if_unavailable);
    EXPECT_EQ(r.gpgkeys, std::vector<std::string>{"file:///etc/pki/rpm-gpg/RPM-GPG-ovirt-4.3"});
    EXPECT_EQ(r.source, data("ovirt-4.3.repo") + ":1");
}

TEST(ParseRepofile, OvirtReleaseDependencies) {
    auto repos = parse_repofile(data("ovirt-4.3-dependencies.repo"), kVars);
    ASSERT_EQ(repos.size(), 4u);
    const auto& epel = by_id(repos, "ovirt-4.3-epel");
    EXPECT_EQ(epel.name, "Extra Packages for Enterprise Linux 7 - x86_64");
    // ovirt-release writes EPEL's metalink as a mirrorlist= key: it is a metalink all the same.
    EXPECT_EQ(epel.metalink, "https://mirrors.fedoraproject.org/metalink?repo=epel-7&arch=x86_64");
    EXPECT_EQ(epel.mirrorlist, "");
    EXPECT_EQ(epel.includepkgs, (std::vector<std::string>{"ansible", "epel-release", "nbdkit*", "ovirt-guest-agent*",
                                                          "python-ordereddict"}));
    EXPECT_TRUE(epel.gpgcheck);
    EXPECT_EQ(epel.gpgkeys, std::vector<std::string>{"https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-7"});
    EXPECT_EQ(epel.source, data("ovirt-4.3-dependencies.repo") + ":1");

    const auto& gluster = by_id(repos, "ovirt-4.3-centos-gluster6");
    EXPECT_EQ(gluster.baseurls,
              std::vector<std::string>{"http://mirror.centos.org/centos/7/storage/x86_64/gluster-6/"});
    EXPECT_FALSE(gluster.skip_if_unavailable);

    const auto& virtio = by_id(repos, "ovirt-4.3-virtio-win-latest");
    EXPECT_FALSE(virtio.gpgcheck);
    EXPECT_TRUE(virtio.skip_if_unavailable);

    const auto& sac = by_id(repos, "sac-gluster-ansible");
    EXPECT_TRUE(sac.skip_if_unavailable) << "yum's True";
    EXPECT_EQ(sac.baseurls, std::vector<std::string>{
                                "https://copr-be.cloud.fedoraproject.org/results/sac/gluster-ansible/epel-7-x86_64/"});
}

TEST(ParseRepofile, SiteMirrorWithSpacesContinuationsAndMain) {
    auto repos = parse_repofile(data("site-mirror.repo"), kVars);
    ASSERT_EQ(repos.size(), 2u) << "[main] is not a repo";
    const auto& base = by_id(repos, "base");
    EXPECT_EQ(base.name, "CentOS-7 - Base (site mirror)");
    EXPECT_EQ(base.baseurls, (std::vector<std::string>{"http://mirror.example.site/centos/7/os/x86_64/",
                                                       "http://backup.example.site/centos/7/os/x86_64/"}));
    EXPECT_EQ(base.gpgkeys, (std::vector<std::string>{"file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7",
                                                      "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-site"}));
    EXPECT_EQ(base.excludepkgs, (std::vector<std::string>{"kernel*", "firefox", "thunderbird"}));
    EXPECT_TRUE(base.gpgcheck);
    const auto& debuginfo = by_id(repos, "debuginfo");
    EXPECT_FALSE(debuginfo.enabled);
}

TEST(ParseRepofile, BadInputIsOneLineNamingFileAndLine) {
    EXPECT_EQ(parse_error("bad-bool.repo"),
              data("bad-bool.repo") + ":3: repo 'broken': enabled must be 1/0, True/False or yes/no, not 'maybe'");
    EXPECT_EQ(parse_error("no-section.repo"), data("no-section.repo") + ":2: 'baseurl' outside of a [repo] section");
    EXPECT_EQ(parse_error("no-url.repo"),
              data("no-url.repo") + ":1: repo 'nourl' has no baseurl, mirrorlist or metalink");
    EXPECT_EQ(parse_error("duplicate.repo"),
              data("duplicate.repo") + ":6: repo 'a' is defined twice (first at line 1)");
    EXPECT_EQ(parse_error("no-equals.repo"),
              data("no-equals.repo") + ":3: expected key=value, got 'this is not a key'");
    EXPECT_EQ(parse_error("does-not-exist.repo"), data("does-not-exist.repo") + ": cannot read repo file");
}

TEST(OverrideRepoUrl, ReplacesMirrorlistWithBaseurl) {
    auto repos = parse_repofile(data("ovirt-4.3-dependencies.repo"), kVars);
    override_repo_url(repos, "ovirt-4.3-epel", "http://mirror.site/epel/7/x86_64/");
    const auto& epel = by_id(repos, "ovirt-4.3-epel");
    EXPECT_EQ(epel.baseurls, std::vector<std::string>{"http://mirror.site/epel/7/x86_64/"});
    EXPECT_EQ(epel.metalink, "");
    EXPECT_EQ(epel.mirrorlist, "");
    EXPECT_EQ(epel.includepkgs.size(), 5u) << "only the URL changes";
}

TEST(OverrideRepoUrl, UnknownIdIsAConfigError) {
    auto repos = parse_repofile(data("ovirt-4.3.repo"), kVars);
    try {
        override_repo_url(repos, "epel", "http://x/");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), "--repo-url epel=http://x/: no repo has the id 'epel' (known: ovirt-4.3)");
        EXPECT_EQ(exit_code_of(e), EXIT_USAGE);
    }
}

TEST(MergeRepos, FileReplacesSameIdAndAddsOthers) {
    auto repos = parse_repofile(data("ovirt-4.3-dependencies.repo"), kVars);
    RepoConfig site;
    site.id = "ovirt-4.3-centos-gluster6";
    site.baseurls = {"http://site/gluster6/"};
    RepoConfig extra;
    extra.id = "site-extra";
    extra.baseurls = {"http://site/extra/"};
    merge_repos(repos, {site, extra});
    ASSERT_EQ(repos.size(), 5u);
    EXPECT_EQ(repos[1].id, "ovirt-4.3-centos-gluster6") << "replaced in place";
    EXPECT_EQ(repos[1].baseurls, std::vector<std::string>{"http://site/gluster6/"});
    EXPECT_FALSE(repos[1].gpgcheck);
    EXPECT_EQ(repos[4].id, "site-extra");
}

TEST(PackageAllowed, YumIncludeAndExcludeSemantics) {
    RepoConfig all;
    EXPECT_TRUE(package_allowed(all, "anything")) << "empty includepkgs means all";

    RepoConfig epel;
    epel.includepkgs = {"ansible", "nbdkit*", "ovirt-guest-agent*"};
    EXPECT_TRUE(package_allowed(epel, "ansible"));
    EXPECT_TRUE(package_allowed(epel, "nbdkit-plugin-python2"));
    EXPECT_FALSE(package_allowed(epel, "ansible-doc")) << "no implicit prefix match";
    EXPECT_FALSE(package_allowed(epel, "python2-crypto"));

    epel.excludepkgs = {"nbdkit-plugin-*"};
    EXPECT_TRUE(package_allowed(epel, "nbdkit"));
    EXPECT_FALSE(package_allowed(epel, "nbdkit-plugin-vddk")) << "excludes win over includes";

    RepoConfig base;
    base.excludepkgs = {"kernel*", "firefox"};
    EXPECT_FALSE(package_allowed(base, "kernel-tools"));
    EXPECT_TRUE(package_allowed(base, "bash"));
}
