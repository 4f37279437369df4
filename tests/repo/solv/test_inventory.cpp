// The inventory end to end: tiny RPMs built with rpmbuild, registered in an rpmdb under a
// root with rpm, described by the real `ovirt-applier inventory`, read back into a pool.
#include "repo/solv/inventory.hpp"
#include "repo/solv/resolve.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "repo/base/error.hpp"
#include "tests/shared/rpm_fixture.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

std::string uname_m() {
    auto r = run_command({"uname", "-m"});
    return r.out.substr(0, r.out.find('\n'));
}

// Builds a noarch rpm with the given spec preamble lines, /usr/bin/NAME and
// /usr/share/NAME/data (a file primary.xml would not list).
fs::path build_rpm(const fs::path& top, const std::string& name, const std::string& version,
                   const std::string& extra_preamble) {
    return build_tiny_rpm(
        top, {name, version, extra_preamble,
              "mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/" + name + "\necho hi > %{buildroot}/usr/bin/" +
                  name + "\necho data > %{buildroot}/usr/share/" + name + "/data\n",
              "/usr/bin/" + name + "\n/usr/share/" + name + "/data\n"});
}

// A root with an rpmdb holding three packages, an os-release, a hostname and two .repo files.
struct FakeMachine {
    TempDir tmp;
    fs::path root = tmp.path() / "root";

    FakeMachine() {
        fs::path top = tmp.path() / "top";
        std::vector<std::string> rpms = {
            build_rpm(top, "airgap-a", "1.0", "Requires: airgap-b >= 1.0\nProvides: airgap-capability = 2"),
            build_rpm(top, "airgap-b", "2.1", "Obsoletes: airgap-old < 1\nConflicts: airgap-bad"),
            build_rpm(top, "centos-release", "7", "Provides: system-release(releasever) = 7"),
        };
        auto init = run_command({"rpm", "--root", root.string(), "--define", "_dbpath /var/lib/rpm", "--initdb"});
        EXPECT_EQ(init.exit_code, 0) << init.err;
        std::vector<std::string> install = {
            "rpm",      "--root",      root.string(),  "--define",  "_dbpath /var/lib/rpm", "-i", "--nodeps",
            "--justdb", "--noscripts", "--ignorearch", "--ignoreos"};
        install.insert(install.end(), rpms.begin(), rpms.end());
        auto r = run_command(install);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        write_file(root / "etc/os-release",
                   "NAME=\"CentOS Linux\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n");
        write_file(root / "etc/hostname", "engine.example.test\n");
        write_file(root / "etc/yum.repos.d/site.repo",
                   "[site-base]\nname=Base\nbaseurl=http://mirror.example.test/$releasever/$basearch/\n\n"
                   "[site-off]\nname=Off\nbaseurl=http://mirror.example.test/off/\nenabled=0\n");
        write_file(root / "etc/yum.repos.d/extra.repo", "[extra]\nname=Extra\nbaseurl=file:///srv/extra\n");
    }

    CommandResult inventory(std::vector<std::string> args) {
        args.insert(args.begin(), "inventory");
        return run_binary("ovirt-applier", args);
    }
};

}  // namespace

TEST(Inventory, DescribesTheRootAsReadableText) {
    FakeMachine m;
    fs::path out = m.tmp.path() / "out" / "engine.inv";
    fs::create_directories(out.parent_path());
    auto r = m.inventory({"--role", "engine", "--root", m.root.string(), "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    // Written atomically: nothing but the file itself in its directory.
    EXPECT_EQ(std::distance(fs::directory_iterator(out.parent_path()), fs::directory_iterator()), 1);

    std::string text = read_file(out);
    EXPECT_EQ(text.rfind("#ovirt-airgap-inventory: 1\n", 0), 0u) << text;
    for (const std::string& line : std::vector<std::string>{
             "#hostname: engine.example.test\n",
             "#role: engine\n",
             "#os-release: CentOS Linux 7 (Core)\n",
             "#os-version-id: 7\n",
             "#arch: " + uname_m() + "\n",
             "#releasever: 7\n",
             "#root: " + m.root.string() + "\n",
             "#repos: extra site-base\n",
             "#packages: 3\n",
             "=Pkg: airgap-a 1.0 1 noarch\n",
             "+Req:\nairgap-b >= 1.0\n-Req:\n",
             "airgap-capability = 2\n",
             "=Pkg: airgap-b 2.1 1 noarch\n",
             "+Obs:\nairgap-old < 1\n-Obs:\n",
             "+Con:\nairgap-bad\n-Con:\n",
             "+Fls:\n/usr/bin/airgap-b\n/usr/share/airgap-b/data\n-Fls:\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << text;
    }
    EXPECT_NE(text.find("#kernel: "), std::string::npos);
    EXPECT_NE(text.find("(running kernel of the host that read --root, not of the root)"), std::string::npos);
    EXPECT_EQ(text.find("echo hi"), std::string::npos);  // no file contents, ever
}

TEST(Inventory, ReadsBackTheSamePackages) {
    FakeMachine m;
    fs::path out = m.tmp.path() / "host.inv";
    auto r = m.inventory({"--role", "host", "--root", m.root.string(), "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    airgap::repo::SolvPool direct(uname_m());
    direct.set_installed_rpmdb(m.root);
    airgap::repo::SolvPool pool(uname_m());
    auto header = airgap::repo::load_inventory(pool, out, "host");
    EXPECT_EQ(header.role, "host");
    EXPECT_EQ(header.hostname, "engine.example.test");
    EXPECT_EQ(header.releasever, "7");
    EXPECT_EQ(header.repos, (std::vector<std::string>{"extra", "site-base"}));
    EXPECT_EQ(header.packages, 3u);

    auto nevras = [](const std::vector<airgap::repo::PoolPackage>& ps) {
        std::vector<std::string> out;
        for (const auto& p : ps) out.push_back(p.nevra());
        return out;
    };
    EXPECT_EQ(
        nevras(pool.installed_packages()),
        (std::vector<std::string>{"airgap-a-1.0-1.noarch", "airgap-b-2.1-1.noarch", "centos-release-7-1.noarch"}));
    EXPECT_EQ(nevras(pool.installed_packages()), nevras(direct.installed_packages()));
}

TEST(Inventory, StdoutWithoutOutputOption) {
    FakeMachine m;
    auto r = m.inventory({"--role", "node", "--root", m.root.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("#ovirt-airgap-inventory: 1\n", 0), 0u);
    EXPECT_NE(r.out.find("#role: node\n"), std::string::npos);
}

TEST(Inventory, BadRoleAndMissingRpmdbAreOneLineErrors) {
    TempDir tmp;
    auto bad_role = run_binary("ovirt-applier", {"inventory", "--role", "router"});
    EXPECT_EQ(bad_role.exit_code, 1);
    EXPECT_NE(bad_role.err.find("router"), std::string::npos) << bad_role.err;

    auto no_db = run_binary("ovirt-applier", {"inventory", "--role", "host", "--root", tmp.path().string()});
    EXPECT_EQ(no_db.exit_code, 1);
    EXPECT_EQ(no_db.err, "ovirt-applier: error: no rpm database in " + (tmp.path() / "var/lib/rpm").string() + "\n");
}

TEST(Inventory, HeaderIsValidatedWhenReadBack) {
    TempDir tmp;
    const std::string body = "=Ver: 3.0\n=Pkg: bash 4.2 1.el7 x86_64\n";
    auto header = [](const std::string& format, const std::string& role, const std::string& arch) {
        return "#ovirt-airgap-inventory: " + format + "\n#role: " + role + "\n#arch: " + arch + "\n";
    };
    auto expect_error = [&](const std::string& name, const std::string& text, const std::string& role,
                            const std::string& message) {
        fs::path file = tmp.path() / name;
        write_file(file, text);
        airgap::repo::SolvPool pool("x86_64");
        try {
            airgap::repo::load_inventory(pool, file, role);
            ADD_FAILURE() << name << ": no error";
        } catch (const airgap::ConfigError& e) {
            EXPECT_EQ(std::string(e.what()), file.string() + ": " + message);
        }
    };
    expect_error("v2", header("2", "host", "x86_64") + body, "",
                 "inventory format '2' is not supported (this version reads 1)");
    expect_error("role", header("1", "host", "x86_64") + body, "engine", "inventory is of role host, not engine");
    expect_error("arch", header("1", "host", "aarch64") + body, "", "inventory is for arch aarch64, not x86_64");
    expect_error("plain", body, "", "not an ovirt-airgap inventory (no '#ovirt-airgap-inventory:' first line)");
    expect_error("badrole", header("1", "router", "x86_64") + body, "",
                 "unknown role 'router' (expected engine, host or node)");

    expect_error("truncated", header("1", "host", "x86_64") + "#packages: 2\n" + body, "",
                 "inventory lists 1 packages but its header says 2 (truncated?)");

    fs::path good = tmp.path() / "good";
    write_file(good, header("1", "host", "x86_64") + body);
    airgap::repo::SolvPool pool("x86_64");
    airgap::repo::load_inventory(pool, good);
    ASSERT_EQ(pool.installed_packages().size(), 1u);
    EXPECT_EQ(pool.installed_packages()[0].nevra(), "bash-4.2-1.el7.x86_64");
}

TEST(Inventory, AnInventoryResolvesLikeTheMachine) {
    FakeMachine m;
    fs::path inv = m.tmp.path() / "engine.inv";
    auto r = m.inventory({"--role", "engine", "--root", m.root.string(), "-o", inv.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::path repo = m.tmp.path() / "updates.tags";
    write_file(repo,
               "=Ver: 3.0 addselfprovides\n"
               "=Pkg: airgap-a 1.1 1 noarch\n+Req:\nairgap-b >= 2.5\n-Req:\n+Prv:\nairgap-capability = 2\n-Prv:\n"
               "=Pkg: airgap-b 2.6 1 noarch\n"
               "=Pkg: airgap-unrelated 1.0 1 noarch\n");
    auto resolve = [&](airgap::repo::SolvPool& pool) {
        airgap::repo::RepoConfig config;
        config.id = "updates";
        pool.add_testtags_repo(config, repo);
        auto result = airgap::repo::resolve_update(pool);
        std::vector<std::string> out;
        for (const auto& p : result.packages) out.push_back(p.nevra + " " + std::string(to_string(p.reason)));
        for (const auto& p : result.problems) out.push_back(p);
        return out;
    };
    airgap::repo::SolvPool from_inventory(uname_m());
    airgap::repo::load_inventory(from_inventory, inv, "engine");
    airgap::repo::SolvPool from_rpmdb(uname_m());
    from_rpmdb.set_installed_rpmdb(m.root);
    auto expected = std::vector<std::string>{"airgap-a-1.1-1.noarch update", "airgap-b-2.6-1.noarch update"};
    EXPECT_EQ(resolve(from_inventory), expected);
    EXPECT_EQ(resolve(from_rpmdb), expected);
}

TEST(Inventory, CarriesEveryFileSoThatFileRequirementsResolveAsOnTheMachine) {
    // The update needs /usr/share/airgap-b/data, which only the installed airgap-b has (and the
    // repo's identical copy lists in its file list): nothing but airgap-a is to be carried.
    FakeMachine m;
    fs::path inv = m.tmp.path() / "engine.inv";
    auto r = m.inventory({"--role", "engine", "--root", m.root.string(), "-o", inv.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(read_file(inv).find("+Fls:\n/usr/bin/airgap-b\n/usr/share/airgap-b/data\n-Fls:\n"), std::string::npos);
    fs::path repo = m.tmp.path() / "updates.tags";
    write_file(repo,
               "=Ver: 3.0 addselfprovides\n"
               "=Pkg: airgap-a 1.1 1 noarch\n+Req:\n/usr/share/airgap-b/data\n-Req:\n"
               "=Pkg: airgap-b 2.1 1 noarch\n+Fls:\n/usr/share/airgap-b/data\n-Fls:\n");
    airgap::repo::SolvPool pool(uname_m());
    airgap::repo::load_inventory(pool, inv, "engine");
    airgap::repo::RepoConfig config;
    config.id = "updates";
    pool.add_testtags_repo(config, repo);
    auto result = airgap::repo::resolve_update(pool);
    ASSERT_TRUE(result.ok()) << result.problems[0];
    ASSERT_EQ(result.packages.size(), 1u);
    EXPECT_EQ(result.packages[0].nevra, "airgap-a-1.1-1.noarch");
}

namespace {

// FakeMachine turned into what an oVirt Node 4.3 looks like to a reader of its files:
// os-release's variant, imgbased's command and state directory, and the root entry imgbased
// writes into the layer's fstab.
void make_node(const FakeMachine& m, const std::string& fstab_source) {
    write_file(m.root / "etc/os-release",
               "NAME=\"oVirt Node\"\nVERSION=\"4.3.9\"\nID=\"ovirt-node\"\nID_LIKE=\"rhel fedora centos\"\n"
               "VERSION_ID=\"7\"\nPRETTY_NAME=\"oVirt Node 4.3.9\"\nVARIANT=\"oVirt Node 4.3.9\"\n"
               "VARIANT_ID=\"ovirt-node\"\n");
    write_file(m.root / "usr/sbin/imgbase", "#!/bin/sh\n");
    fs::create_directories(m.root / "var/imgbased/persisted-rpms");
    write_file(m.root / "etc/fstab", "# /etc/fstab\n" + fstab_source +
                                         " / ext4 defaults,discard 1 1\n"
                                         "/dev/mapper/onn-var /var ext4 defaults,discard 1 2\n");
}

}  // namespace

TEST(Inventory, AnOvirtNodeIsRecordedWithItsLayerAndIsANodeByDefault) {
    FakeMachine m;
    make_node(m, "/dev/onn/ovirt-node-ng-4.3.9-0.20200324.0+1");
    fs::path out = m.tmp.path() / "node.inventory";
    auto r = m.inventory({"--root", m.root.string(), "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string text = read_file(out);
    for (const char* line : {"#role: node\n", "#variant: ovirt-node\n", "#layer: ovirt-node-ng-4.3.9-0.20200324.0+1\n"})
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;

    auto header = airgap::repo::read_inventory_header(out);
    EXPECT_EQ(header.role, "node");
    EXPECT_EQ(header.variant, "ovirt-node");
    EXPECT_EQ(header.layer, "ovirt-node-ng-4.3.9-0.20200324.0+1");
    airgap::repo::SolvPool pool(uname_m());
    EXPECT_EQ(airgap::repo::load_inventory(pool, out, "node").packages, 3u);

    // The installer's /dev/mapper spelling (dashes doubled) names the same layer.
    make_node(m, "/dev/mapper/onn-ovirt--node--ng--4.3.9--0.20200324.0+1");
    r = m.inventory({"--root", m.root.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("#layer: ovirt-node-ng-4.3.9-0.20200324.0+1\n"), std::string::npos) << r.out;

    // --role host is the admin's call; engine never is on a Node.
    r = m.inventory({"--role", "engine", "--root", m.root.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("is an oVirt Node"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
}

TEST(Inventory, WithoutImgbasedOrTheVariantItIsNoNodeAndNeedsARole) {
    FakeMachine m;
    auto r = m.inventory({"--root", m.root.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("--role is required"), std::string::npos) << r.err;

    // The variant alone, imgbased gone: not a Node either.
    make_node(m, "/dev/onn/ovirt-node-ng-4.3.9-0.20200324.0+1");
    fs::remove(m.root / "usr/sbin/imgbase");
    fs::remove_all(m.root / "var/imgbased");
    r = m.inventory({"--root", m.root.string()});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    r = m.inventory({"--role", "host", "--root", m.root.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("#variant:"), std::string::npos);
    EXPECT_EQ(r.out.find("#layer:"), std::string::npos);
}
