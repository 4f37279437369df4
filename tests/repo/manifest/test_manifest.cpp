#include "repo/manifest/manifest.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "repo/base/error.hpp"
#include "repo/repos/repo_config.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;

namespace {

std::string data(const std::string& name) { return test::source_path("tests/data/manifests/" + name).string(); }

std::string load_error(const std::string& path) {
    try {
        load_manifest(path);
    } catch (const ConfigError& e) {
        EXPECT_EQ(exit_code_of(e), EXIT_USAGE);
        return e.what();
    }
    return "(no error)";
}

const RepoConfig& by_id(const Manifest& m, const std::string& id) {
    for (const auto& r : m.repos)
        if (r.id == id) return r;
    throw std::runtime_error("no repo " + id);
}

}  // namespace

TEST(Manifest, LoadsReposRolesAndSubstitutesVariables) {
    Manifest m = load_manifest(data("good.yaml"));
    EXPECT_EQ(m.name, "tiny");
    EXPECT_EQ(m.releasever, "7");
    EXPECT_EQ(m.basearch, "x86_64");
    EXPECT_EQ(m.path, data("good.yaml"));
    ASSERT_EQ(m.repos.size(), 3u);

    const auto& base = m.repos[0];
    EXPECT_EQ(base.id, "base");
    EXPECT_EQ(base.name, "base") << "name defaults to the id";
    EXPECT_EQ(base.baseurls, std::vector<std::string>{"http://mirror.example/centos/7/os/x86_64/"});
    EXPECT_TRUE(base.gpgcheck);
    EXPECT_EQ(base.gpgkeys, (std::vector<std::string>{"RPM-GPG-KEY-CentOS-7", "https://keys.example/extra-7"}));
    EXPECT_EQ(base.source, data("good.yaml") + ":5");

    const auto& epel = m.repos[1];
    EXPECT_EQ(epel.name, "EPEL 7");
    EXPECT_EQ(epel.metalink, "https://mirrors.fedoraproject.org/metalink?repo=epel-7&arch=x86_64");
    EXPECT_FALSE(epel.gpgcheck);
    EXPECT_EQ(epel.includepkgs, (std::vector<std::string>{"ansible", "nbdkit*"})) << "a yum-style string list";
    EXPECT_EQ(epel.excludepkgs, std::vector<std::string>{"nbdkit-plugin-vddk"});

    const auto& ovirt = m.repos[2];
    EXPECT_EQ(ovirt.mirrorlist, "https://resources.ovirt.org/pub/yum-repo/mirrorlist-ovirt-4.3-el7");
    EXPECT_FALSE(ovirt.enabled);
    EXPECT_TRUE(ovirt.skip_if_unavailable);

    ASSERT_EQ(m.roles.size(), 2u);
    EXPECT_EQ(m.roles.at("engine").roots, std::vector<std::string>{"ovirt-engine"});
    EXPECT_EQ(m.roles.at("host").roots, std::vector<std::string>{"vdsm"});
}

TEST(Manifest, TheShippedOvirt43ManifestIsTheRealRepoSet) {
    Manifest m = load_manifest(test::source_path("manifests/ovirt-4.3-el7.yaml"));
    EXPECT_EQ(m.name, "ovirt-4.3-el7");
    std::vector<std::string> ids;
    for (const auto& r : m.repos) ids.push_back(r.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"ovirt-4.3", "ovirt-4.3-epel", "ovirt-4.3-centos-gluster6",
                                             "ovirt-4.3-virtio-win-latest", "ovirt-4.3-centos-qemu-ev",
                                             "ovirt-4.3-centos-ovirt43", "ovirt-4.3-centos-ovirt-common",
                                             "ovirt-4.3-centos-opstools", "centos-sclo-rh-release",
                                             "sac-gluster-ansible", "base", "updates", "extras"}));

    EXPECT_EQ(by_id(m, "ovirt-4.3").mirrorlist, "https://resources.ovirt.org/pub/yum-repo/mirrorlist-ovirt-4.3-el7");
    const auto& epel = by_id(m, "ovirt-4.3-epel");
    EXPECT_EQ(epel.metalink, "https://mirrors.fedoraproject.org/metalink?repo=epel-7&arch=x86_64");
    EXPECT_TRUE(package_allowed(epel, "nbdkit-plugin-python2"));
    EXPECT_FALSE(package_allowed(epel, "python2-paramiko"));
    EXPECT_FALSE(package_allowed(epel, "nbdkit-plugin-gzip")) << "ovirt-release43 lists nbdkit packages one by one";

    EXPECT_FALSE(by_id(m, "ovirt-4.3-virtio-win-latest").gpgcheck);
    EXPECT_EQ(by_id(m, "ovirt-4.3-centos-ovirt43").baseurls,
              std::vector<std::string>{"http://mirror.centos.org/centos/7/virt/x86_64/ovirt-4.3/"});
    EXPECT_EQ(by_id(m, "ovirt-4.3-centos-ovirt43").gpgkeys,
              std::vector<std::string>{"https://www.centos.org/keys/RPM-GPG-KEY-CentOS-SIG-Virtualization"});
    EXPECT_EQ(by_id(m, "base").baseurls, std::vector<std::string>{"http://vault.centos.org/7.9.2009/os/x86_64/"});
    EXPECT_EQ(by_id(m, "updates").gpgkeys,
              std::vector<std::string>{"https://www.centos.org/keys/RPM-GPG-KEY-CentOS-7"});
    for (const auto& r : m.repos) {
        EXPECT_TRUE(r.enabled) << r.id;
        if (r.gpgcheck) {
            EXPECT_FALSE(r.gpgkeys.empty()) << r.id;
        }
    }

    EXPECT_EQ(m.roles.at("engine").roots, (std::vector<std::string>{"ovirt-engine", "ovirt-engine-setup"}));
    EXPECT_EQ(m.roles.at("host").roots, (std::vector<std::string>{"ovirt-host", "vdsm"}));
    EXPECT_EQ(m.roles.at("node").roots, std::vector<std::string>{"ovirt-node-ng-image-update"});
}

// ovirt-release43 4.3.10's own repo files (oVirt/ovirt-release, tag ovirt-release43-4.3.10,
// ovirt.repo.in and ovirt-el7-x86_64-deps.repo.in with @OVIRT_SLOT@=4.3, @DIST@=el, copied to
// tests/data/ovirt-release43-4.3.10/): the manifest has every repo they define, field by field.
TEST(Manifest, TheShippedOvirt43ManifestMatchesOvirtRelease43FieldByField) {
    Manifest m = load_manifest(test::source_path("manifests/ovirt-4.3-el7.yaml"));
    std::vector<RepoConfig> upstream;
    for (const char* file : {"ovirt-4.3.repo", "ovirt-4.3-dependencies.repo"})
        for (auto& r :
             parse_repofile(test::source_path(std::string("tests/data/ovirt-release43-4.3.10/") + file), m.vars()))
            upstream.push_back(std::move(r));
    ASSERT_EQ(upstream.size(), 10u);
    for (const auto& want : upstream) {
        SCOPED_TRACE(want.id);
        auto it = std::find_if(m.repos.begin(), m.repos.end(), [&](const RepoConfig& r) { return r.id == want.id; });
        ASSERT_NE(it, m.repos.end());
        const RepoConfig& have = *it;
        EXPECT_EQ(have.name, want.name);
        EXPECT_EQ(have.baseurls, want.baseurls);
        EXPECT_EQ(have.mirrorlist, want.mirrorlist);
        EXPECT_EQ(have.metalink, want.metalink);
        EXPECT_EQ(have.enabled, want.enabled);
        EXPECT_EQ(have.gpgcheck, want.gpgcheck);
        EXPECT_EQ(have.skip_if_unavailable, want.skip_if_unavailable);
        EXPECT_EQ(have.includepkgs, want.includepkgs);
        EXPECT_EQ(have.excludepkgs, want.excludepkgs);
        // ovirt-4.3's key is a file ovirt-release43 installs (expired 2021); the manifest names
        // the published v2 key the bundler fetches instead.
        if (want.id != "ovirt-4.3") {
            EXPECT_EQ(have.gpgkeys, want.gpgkeys);
        }
    }
}

// The shipped vault repofile moves every CentOS SIG repo off mirror.centos.org (gone) and keeps
// its key and gpgcheck; the other repos stay as ovirt-release43 has them.
TEST(Manifest, TheShippedVaultRepofileReplacesEveryMirrorCentosOrgUrl) {
    Manifest m = load_manifest(test::source_path("manifests/ovirt-4.3-el7.yaml"));
    std::vector<RepoConfig> repos = m.repos;
    std::vector<RepoConfig> vault = parse_repofile(test::source_path("manifests/centos7-sig-vault.repo"), m.vars());
    merge_repos(repos, vault);
    ASSERT_EQ(repos.size(), m.repos.size()) << "only replaces, adds nothing";
    for (std::size_t i = 0; i < repos.size(); ++i) {
        const RepoConfig& before = m.repos[i];
        const RepoConfig& after = repos[i];
        SCOPED_TRACE(after.id);
        EXPECT_EQ(after.id, before.id);
        for (const auto& url : after.baseurls) EXPECT_EQ(url.find("mirror.centos.org"), std::string::npos) << url;
        EXPECT_EQ(after.gpgcheck, before.gpgcheck);
        EXPECT_EQ(after.gpgkeys, before.gpgkeys);
        bool was_on_the_mirror =
            !before.baseurls.empty() && before.baseurls[0].find("mirror.centos.org") != std::string::npos;
        if (was_on_the_mirror) {
            std::string tail = before.baseurls[0].substr(before.baseurls[0].find("/centos/7/") + 10);
            EXPECT_EQ(after.baseurls, std::vector<std::string>{"http://vault.centos.org/7.9.2009/" + tail});
        } else {
            EXPECT_EQ(after.baseurls, before.baseurls);
        }
    }
}

TEST(Manifest, MissingKeyNamesKeyAndLine) {
    EXPECT_EQ(load_error(data("missing-id.yaml")), data("missing-id.yaml") + ":7: repos: missing required key 'id'");
    EXPECT_EQ(load_error(data("missing-basearch.yaml")),
              data("missing-basearch.yaml") + ":1: missing required key 'basearch'");
    EXPECT_EQ(load_error(data("missing-roots.yaml")),
              data("missing-roots.yaml") + ":8: role 'host': unknown key 'packages'");
}

TEST(Manifest, RepoNeedsExactlyOneSource) {
    EXPECT_EQ(load_error(data("two-sources.yaml")),
              data("two-sources.yaml") + ":5: repo 'base': needs exactly one of 'baseurl', 'mirrorlist' or 'metalink'");
    EXPECT_EQ(load_error(data("no-source.yaml")),
              data("no-source.yaml") + ":5: repo 'base': needs exactly one of 'baseurl', 'mirrorlist' or 'metalink'");
}

TEST(Manifest, UnknownRoleAndKeysAreErrors) {
    EXPECT_EQ(load_error(data("unknown-role.yaml")),
              data("unknown-role.yaml") + ":9: unknown role 'dwh' (expected engine, host or node)");
    EXPECT_EQ(load_error(data("typo-key.yaml")), data("typo-key.yaml") + ":7: repo 'epel': unknown key 'inlcudepkgs'");
    EXPECT_EQ(load_error(data("bad-bool.yaml")),
              data("bad-bool.yaml") + ":7: repo 'base': 'gpgcheck' must be a boolean (true/false or 1/0)");
}

TEST(Manifest, BadYamlNamesTheLine) {
    std::string err = load_error(data("bad-yaml.yaml"));
    EXPECT_EQ(err.rfind(data("bad-yaml.yaml") + ":7: invalid YAML: ", 0), 0u) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
}

TEST(Manifest, MissingFileIsAConfigError) {
    EXPECT_EQ(load_error(data("nope.yaml")), data("nope.yaml") + ": cannot read manifest");
}
