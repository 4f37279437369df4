// The test world itself (scripts/make-world.sh, tests/data/world/README.md), checked the way
// a user would: rpm -K, dnf repoclosure, rpm -q in the roots, and what real dnf does with it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

// The package list a root is built from (tests/data/world/roots/NAME.list), sorted.
std::vector<std::string> root_list(const std::string& name) {
    std::vector<std::string> nevras;
    for (const auto& line : lines_of(read_file(source_path("tests/data/world/roots/" + name + ".list"))))
        if (line[0] != '#') nevras.push_back(line);
    std::sort(nevras.begin(), nevras.end());
    return nevras;
}

std::vector<fs::path> world_rpms() {
    std::vector<fs::path> rpms;
    for (const auto& repo : world_repos())
        for (const auto& entry : fs::directory_iterator(world_dir() / "repos" / repo / "Packages"))
            if (entry.path().extension() == ".rpm") rpms.push_back(entry.path());
    std::sort(rpms.begin(), rpms.end());
    return rpms;
}

// The decompressed repodata file of `type` ("primary", "filelists") of a world repo.
std::string repodata(const std::string& repo, const std::string& type) {
    for (const auto& entry : fs::directory_iterator(world_dir() / "repos" / repo / "repodata")) {
        std::string name = entry.path().filename().string();
        if (name.size() > type.size() + 8 && name.find("-" + type + ".xml.gz") != std::string::npos) {
            CommandResult r = run_command({"zcat", entry.path().string()});
            if (r.exit_code == 0) return r.out;
        }
    }
    ADD_FAILURE() << "no " << type << ".xml.gz in " << repo;
    return {};
}

class World : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(world_is_built()); }
};

TEST_F(World, EveryPackageIsSignedWithTheWorldKeyAndItsDigestsAreGood) {
    TempDir tmp;
    fs::path db = tmp.path() / "rpmdb";
    fs::create_directories(db);
    const std::string key = (world_dir() / "keys/RPM-GPG-KEY-airgap-world").string();
    ASSERT_EQ(run_command({"rpm", "--dbpath", db.string(), "--import", key}).exit_code, 0);
    CommandResult id = run_command({"rpm", "--dbpath", db.string(), "-q", "gpg-pubkey", "--qf", "%{version}"});
    ASSERT_EQ(id.exit_code, 0) << id.err;
    ASSERT_EQ(id.out.size(), 8u) << id.out;

    std::vector<fs::path> rpms = world_rpms();
    ASSERT_GE(rpms.size(), 80u);
    std::vector<std::string> argv = {"rpm", "--dbpath", db.string(), "-K"};
    for (const auto& rpm : rpms) argv.push_back(rpm.string());
    CommandResult k = run_command(argv);
    EXPECT_EQ(k.exit_code, 0) << k.out << k.err;
    std::vector<std::string> lines = lines_of(k.out);
    ASSERT_EQ(lines.size(), rpms.size()) << k.out;
    for (const auto& line : lines) EXPECT_TRUE(std::regex_search(line, std::regex(": digests signatures OK$"))) << line;

    // Signed by the world key: RSA/SHA256 over the header, plus the v3 header+payload
    // signature that EL7's rpm 4.11 checks.
    for (const auto& rpm : rpms) {
        CommandResult sig = run_command(
            {"rpm", "--dbpath", db.string(), "-qp", "--qf", "%{RSAHEADER:pgpsig}|%{SIGPGP:pgpsig}", rpm.string()});
        ASSERT_EQ(sig.exit_code, 0) << sig.err;
        EXPECT_TRUE(std::regex_match(sig.out, std::regex("RSA/SHA256, .*, Key ID [0-9a-f]{8}" + id.out +
                                                         "\\|RSA/SHA256, .*, Key ID [0-9a-f]{8}" + id.out)))
            << rpm.filename() << ": " << sig.out;
    }
}

TEST_F(World, UnsignedOrForeignKeyIsNotAccepted) {
    // rpm -K without the world key in the keyring: the signature is there but not trusted.
    TempDir tmp;
    fs::path db = tmp.path() / "rpmdb";
    fs::create_directories(db);
    CommandResult k = run_command({"rpm", "--dbpath", db.string(), "-K", world_rpms().front().string()});
    EXPECT_NE(k.exit_code, 0);
    EXPECT_NE(k.out.find("SIGNATURES NOT OK"), std::string::npos) << k.out;
}

TEST_F(World, ReposHaveRepodataForDnfAndEl7Yum) {
    for (const auto& repo : world_repos()) {
        std::string repomd = read_file(world_dir() / "repos" / repo / "repodata/repomd.xml");
        for (const char* type : {"primary", "filelists", "other", "primary_db", "filelists_db", "other_db"})
            EXPECT_NE(repomd.find("<data type=\"" + std::string(type) + "\">"), std::string::npos)
                << repo << " " << type;
    }
    std::string updates = read_file(world_dir() / "repos/centos-updates/repodata/repomd.xml");
    EXPECT_NE(updates.find("<data type=\"updateinfo\">"), std::string::npos);
}

TEST_F(World, DnfRepoclosureIsClean) {
    TempDir tmp;
    // repoclosure is a dnf-plugins-core plugin: load it alone (Debian's 'local' plugin breaks things).
    CommandResult r = run_command({"env", "HOME=" + (world_dir() / "home").string(), "dnf", "--disableplugin=*",
                                   "--enableplugin=repoclosure", "--releasever", "7",
                                   "--setopt=reposdir=" + (world_dir() / "yum.repos.d").string(),
                                   "--setopt=cachedir=" + (tmp.path() / "cache").string(), "repoclosure"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("unresolved deps"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("No such command"), std::string::npos) << r.err;
}

TEST_F(World, TrapsArePresent) {
    const fs::path repos = world_dir() / "repos";
    // includepkgs: EPEL carries a newer python-jinja2 than base.
    EXPECT_TRUE(fs::exists(repos / "centos-base/Packages/python-jinja2-2.7.2-4.el7.noarch.rpm"));
    EXPECT_TRUE(fs::exists(repos / "ovirt-4.3-epel/Packages/python-jinja2-2.10.1-2.el7.noarch.rpm"));
    // multilib: i686 beside x86_64, libraries only.
    EXPECT_TRUE(fs::exists(repos / "centos-updates/Packages/glibc-2.17-326.el7_9.i686.rpm"));
    EXPECT_TRUE(fs::exists(repos / "centos-updates/Packages/openssl-libs-1.0.2k-21.el7_9.i686.rpm"));
    EXPECT_FALSE(fs::exists(repos / "centos-updates/Packages/openssl-1.0.2k-21.el7_9.i686.rpm"));
    EXPECT_FALSE(fs::exists(repos / "centos-updates/Packages/glibc-common-2.17-326.el7_9.i686.rpm"));
    // A file requirement that only filelists.xml can satisfy.
    const std::string path = "/usr/libexec/ovirt-engine-wildfly-overlay/overlay-setup";
    std::string primary = repodata("ovirt-4.3", "primary");
    EXPECT_NE(primary.find("<rpm:entry name=\"" + path + "\"/>"), std::string::npos);
    EXPECT_EQ(primary.find("<file>" + path + "</file>"), std::string::npos);
    EXPECT_NE(repodata("ovirt-4.3", "filelists").find(">" + path + "</file>"), std::string::npos);
    // The Obsoletes rename.
    TempDir tmp;
    CommandResult obs =
        run_command({"rpm", "--dbpath", tmp.path().string(), "-qp", "--nosignature", "--obsoletes",
                     (repos / "ovirt-4.3/Packages/python2-ovirt-engine-sdk4-4.3.4-1.el7.x86_64.rpm").string()});
    EXPECT_EQ(obs.out, "python-ovirt-engine-sdk4 < 4.3.4-1.el7\n") << obs.err;
    // installonly kernels, and an update nothing needs.
    EXPECT_TRUE(fs::exists(repos / "centos-base/Packages/kernel-3.10.0-1160.el7.x86_64.rpm"));
    EXPECT_TRUE(fs::exists(repos / "centos-updates/Packages/bpftool-3.10.0-1160.119.1.el7.x86_64.rpm"));
}

TEST_F(World, RootsHoldThe437VersionsInTheEl7Rpmdb) {
    for (const std::string name : {"engine-4.3.7", "host-4.3.7"}) {
        const fs::path root = world_dir() / "roots" / name;
        EXPECT_EQ(installed_nevras(root), root_list(name)) << name;
        EXPECT_TRUE(fs::exists(root / "var/lib/rpm/rpmdb.sqlite")) << name;
        EXPECT_FALSE(fs::exists(root / "root/.rpmdb")) << name << ": dnf used Debian's ~/.rpmdb";
        CommandResult key =
            run_command({"rpm", "--root", root.string(), "--define", "_dbpath /var/lib/rpm", "-q", "gpg-pubkey"});
        EXPECT_EQ(key.exit_code, 0) << name << ": world key not imported";
        CommandResult verify =
            run_command({"rpm", "--root", root.string(), "--define", "_dbpath /var/lib/rpm", "-Va", "--nomtime"});
        EXPECT_EQ(verify.exit_code, 0) << name << ": " << verify.out << verify.err;

        std::string os_release = read_file(root / "etc/os-release");
        EXPECT_NE(os_release.find("PRETTY_NAME=\"CentOS Linux 7 (Core)\"\n"), std::string::npos) << name;
        EXPECT_NE(os_release.find("VERSION_ID=\"7\"\n"), std::string::npos) << name;
        EXPECT_EQ(read_file(root / "etc/centos-release"), "CentOS Linux release 7.7.1908 (Core)\n");
        for (const char* repo_file : {"CentOS-Base.repo", "ovirt-4.3.repo", "ovirt-4.3-dependencies.repo"})
            EXPECT_TRUE(fs::exists(root / "etc/yum.repos.d" / repo_file)) << name << " " << repo_file;
        EXPECT_EQ(read_file(root / "etc/yum.repos.d/ovirt-4.3-dependencies.repo").find("ovirt-common"),
                  std::string::npos);
    }
    const fs::path engine = world_dir() / "roots/engine-4.3.7";
    EXPECT_EQ(read_file(engine / "etc/hostname"), "engine.airgap.invalid\n");
    CommandResult q = run_command({"rpm", "--root", engine.string(), "--define", "_dbpath /var/lib/rpm", "-q",
                                   "ovirt-engine", "ovirt-engine-setup", "kernel"});
    EXPECT_EQ(q.out,
              "ovirt-engine-4.3.7.2-1.el7.noarch\novirt-engine-setup-4.3.7.2-1.el7.noarch\n"
              "kernel-3.10.0-1062.el7.x86_64\n");
}

// What real dnf does with a copy of a root: exactly what the traps allow.
std::vector<std::string> dnf_upgrade_plan(const fs::path& root, std::string* output) {
    std::vector<std::string> argv = world_dnf(root);
    argv.insert(argv.end(), {"upgrade", "--assumeno"});
    CommandResult r = run_command(argv);
    *output = r.out + r.err;
    EXPECT_EQ(r.exit_code, 1) << *output;  // --assumeno: "Operation aborted."
    EXPECT_NE((r.out + r.err).find("Operation aborted."), std::string::npos) << *output;
    return dnf_transaction_packages(r.out);
}

TEST_F(World, DnfUpgradeOfTheEngineRootTakesWhatTheTrapsAllow) {
    TempDir tmp;
    fs::path root = copy_world_root("engine-4.3.7", tmp.path());
    std::string output;
    std::vector<std::string> plan = dnf_upgrade_plan(root, &output);
    std::vector<std::string> expected = {
        "ansible-2.9.9-1.el7.noarch",
        "bash-4.2.46-34.el7.x86_64",
        "centos-release-7-9.2009.0.el7.centos.x86_64",
        "glibc-2.17-326.el7_9.x86_64",
        "glibc-common-2.17-326.el7_9.x86_64",
        "kernel-3.10.0-1160.el7.x86_64",
        "openssl-1:1.0.2k-21.el7_9.x86_64",
        "openssl-libs-1:1.0.2k-21.el7_9.x86_64",
        "ovirt-engine-4.3.10.4-1.el7.noarch",
        "ovirt-engine-backend-4.3.10.4-1.el7.noarch",
        "ovirt-engine-dbscripts-4.3.10.4-1.el7.noarch",
        "ovirt-engine-restapi-4.3.10.4-1.el7.noarch",
        "ovirt-engine-setup-4.3.10.4-1.el7.noarch",
        "ovirt-engine-setup-base-4.3.10.4-1.el7.noarch",
        "ovirt-engine-setup-plugin-ovirt-engine-4.3.10.4-1.el7.noarch",
        "ovirt-engine-setup-plugin-ovirt-engine-common-4.3.10.4-1.el7.noarch",
        "ovirt-engine-setup-plugin-websocket-proxy-4.3.10.4-1.el7.noarch",
        "ovirt-engine-tools-4.3.10.4-1.el7.noarch",
        "ovirt-engine-tools-backup-4.3.10.4-1.el7.noarch",
        "ovirt-engine-webadmin-portal-4.3.10.4-1.el7.noarch",
        "ovirt-engine-wildfly-overlay-17.0.1-1.el7.noarch",
        "ovirt-release43-4.3.10-1.el7.noarch",
        "ovirt-web-ui-1.6.3-1.el7.noarch",
        "python-2.7.5-90.el7.x86_64",
        "python-libs-2.7.5-90.el7.x86_64",
        "python2-ovirt-engine-sdk4-4.3.4-1.el7.x86_64",
    };
    EXPECT_EQ(plan, expected) << output;
    EXPECT_NE(output.find("replacing  python-ovirt-engine-sdk4.x86_64 4.3.2-1.el7"), std::string::npos) << output;

    // The real transaction does what the table said; the old kernel stays beside the new one.
    std::vector<std::string> before = installed_nevras(root);
    std::vector<std::string> argv = world_dnf(root);
    argv.insert(argv.end(), {"upgrade", "-y"});
    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> after = installed_nevras(root);
    std::vector<std::string> added;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(added));
    EXPECT_EQ(added, expected);
    EXPECT_TRUE(std::binary_search(after.begin(), after.end(), "kernel-3.10.0-1062.el7.x86_64"));
    EXPECT_FALSE(std::binary_search(after.begin(), after.end(), "python-ovirt-engine-sdk4-4.3.2-1.el7.x86_64"));
    EXPECT_TRUE(std::binary_search(after.begin(), after.end(), "python-jinja2-2.7.2-4.el7.noarch"));
    EXPECT_NE(read_file(root / "etc/yum.repos.d/ovirt-4.3-dependencies.repo").find("[ovirt-4.3-centos-ovirt-common]"),
              std::string::npos);
}

TEST_F(World, DnfUpgradeOfTheHostRootTakesWhatTheTrapsAllow) {
    TempDir tmp;
    fs::path root = copy_world_root("host-4.3.7", tmp.path());
    std::string output;
    std::vector<std::string> plan = dnf_upgrade_plan(root, &output);
    std::vector<std::string> expected = {
        "bash-4.2.46-34.el7.x86_64",
        "centos-release-7-9.2009.0.el7.centos.x86_64",
        "glibc-2.17-326.el7_9.x86_64",
        "glibc-common-2.17-326.el7_9.x86_64",
        "kernel-3.10.0-1160.el7.x86_64",
        "nbdkit-1.8.0-3.el7.x86_64",
        "nbdkit-plugin-python2-1.8.0-3.el7.x86_64",
        "openssl-1:1.0.2k-21.el7_9.x86_64",
        "openssl-libs-1:1.0.2k-21.el7_9.x86_64",
        "ovirt-host-4.3.5-1.el7.x86_64",
        "ovirt-host-dependencies-4.3.5-1.el7.x86_64",
        "ovirt-release43-4.3.10-1.el7.noarch",
        "python-2.7.5-90.el7.x86_64",
        "python-libs-2.7.5-90.el7.x86_64",
        "python2-ovirt-engine-sdk4-4.3.4-1.el7.x86_64",
        "vdsm-4.30.46-1.el7.x86_64",
        "vdsm-api-4.30.46-1.el7.noarch",
        "vdsm-client-4.30.46-1.el7.noarch",
        "vdsm-common-4.30.46-1.el7.noarch",
        "vdsm-jsonrpc-4.30.46-1.el7.noarch",
        "vdsm-network-4.30.46-1.el7.x86_64",
        "vdsm-python-4.30.46-1.el7.noarch",
        "vdsm-yajsonrpc-4.30.46-1.el7.noarch",
    };
    EXPECT_EQ(plan, expected) << output;
}

TEST(DnfTransactionTable, WrappedRowsAndReplacingLinesAreRead) {
    const std::string table =
        "Dependencies resolved.\n"
        "================================================================================\n"
        " Package                      Arch    Version              Repository     Size\n"
        "================================================================================\n"
        "Installing:\n"
        " kernel                       x86_64  3.10.0-1160.el7      centos-base   6.4 k\n"
        " python2-ovirt-engine-sdk4    x86_64  4.3.4-1.el7          ovirt-4.3     6.5 k\n"
        "     replacing  python-ovirt-engine-sdk4.x86_64 4.3.2-1.el7\n"
        "Upgrading:\n"
        " ovirt-engine-setup-plugin-ovirt-engine-common\n"
        "                              noarch  4.3.10.4-1.el7       ovirt-4.3     6.2 k\n"
        " openssl-libs                 x86_64  1:1.0.2k-21.el7_9    centos-updates 6.2 k\n"
        "Removing:\n"
        " bpftool                      x86_64  3.10.0-1160.el7      @System        12  \n"
        "\n"
        "Transaction Summary\n"
        "================================================================================\n"
        "Install  2 Packages\n";
    EXPECT_EQ(dnf_transaction_packages(table),
              (std::vector<std::string>{"kernel-3.10.0-1160.el7.x86_64", "openssl-libs-1:1.0.2k-21.el7_9.x86_64",
                                        "ovirt-engine-setup-plugin-ovirt-engine-common-4.3.10.4-1.el7.noarch",
                                        "python2-ovirt-engine-sdk4-4.3.4-1.el7.x86_64"}));
}

TEST_F(World, StandInSetupScriptsLogEachCallWithTheInstalledSetupVersion) {
    TempDir tmp;
    fs::path root = copy_world_root("engine-4.3.7", tmp.path());
    const fs::path log = root / "var/log/ovirt-airgap-test/calls.log";
    const fs::path control = root / "var/lib/ovirt-airgap-test";

    CommandResult check = run_command({(root / "usr/bin/engine-upgrade-check").string()});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    write_file(control / "engine-upgrade-check.exit", "1\n");
    EXPECT_EQ(run_command({(root / "usr/bin/engine-upgrade-check").string()}).exit_code, 1);
    fs::remove(control / "engine-upgrade-check.exit");

    CommandResult setup = run_command(
        {(root / "usr/bin/engine-setup").string(), "--accept-defaults", "--config-append=/tmp/answers.conf"});
    EXPECT_EQ(setup.exit_code, 0) << setup.err;
    EXPECT_NE(setup.out.find("Execution of setup completed successfully"), std::string::npos) << setup.out;
    write_file(control / "engine-setup.exit", "1\n");
    CommandResult failed = run_command({(root / "usr/bin/engine-setup").string(), "--accept-defaults"});
    EXPECT_EQ(failed.exit_code, 1);
    EXPECT_NE(failed.err.find("[ ERROR ]"), std::string::npos) << failed.err;
    fs::remove(control / "engine-setup.exit");

    // "yum update ovirt\*setup\*" updates the setup packages alone; engine-setup then reports
    // the new version while ovirt-engine stays where it was.
    std::vector<std::string> argv = world_dnf(root);
    argv.insert(argv.end(), {"upgrade", "-y", "ovirt*setup*"});
    CommandResult update = run_command(argv);
    ASSERT_EQ(update.exit_code, 0) << update.out << update.err;
    CommandResult q = run_command({"rpm", "--root", root.string(), "--define", "_dbpath /var/lib/rpm", "-q",
                                   "ovirt-engine", "ovirt-engine-setup-base"});
    EXPECT_EQ(q.out, "ovirt-engine-4.3.7.2-1.el7.noarch\novirt-engine-setup-base-4.3.10.4-1.el7.noarch\n");
    EXPECT_EQ(run_command({(root / "usr/bin/engine-setup").string(), "--accept-defaults"}).exit_code, 0);

    EXPECT_EQ(read_file(log),
              "engine-upgrade-check 4.3.7.2-1.el7\n"
              "engine-upgrade-check 4.3.7.2-1.el7\n"
              "engine-setup 4.3.7.2-1.el7 --accept-defaults --config-append=/tmp/answers.conf\n"
              "engine-setup 4.3.7.2-1.el7 --accept-defaults\n"
              "engine-setup 4.3.10.4-1.el7 --accept-defaults\n");
    // The world's own root is untouched.
    EXPECT_FALSE(fs::exists(world_dir() / "roots/engine-4.3.7/var/log/ovirt-airgap-test"));
}

TEST_F(World, MakeWorldIsIdempotentAndRefusesForeignDirectories) {
    CommandResult again = run_command({source_path("scripts/make-world.sh").string(), world_dir().string()});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, "world: up to date in " + world_dir().string() + "\n");

    TempDir tmp;
    write_file(tmp.path() / "precious/notes.txt", "keep me\n");
    CommandResult refused =
        run_command({source_path("scripts/make-world.sh").string(), (tmp.path() / "precious").string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_EQ(refused.err, "world: " + (tmp.path() / "precious").string() +
                               " exists and is not a test world; refusing to overwrite it\n");
    EXPECT_EQ(read_file(tmp.path() / "precious/notes.txt"), "keep me\n");

    CommandResult usage = run_command({source_path("scripts/make-world.sh").string()});
    EXPECT_EQ(usage.exit_code, 1);
}

}  // namespace
