// End to end: `ovirt-applier inventory` on the test world's 4.3.7 roots, read the way a
// security officer reviews what leaves the site.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

std::vector<std::vector<std::string>> token_lines(const std::string& text) {
    std::vector<std::vector<std::string>> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        lines.emplace_back(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>());
    }
    return lines;
}

struct Installed {
    std::string name, epoch_version, release, arch;
};

// What rpm itself says is installed in `root`, gpg-pubkey left out.
std::vector<Installed> rpm_query(const fs::path& root) {
    CommandResult r = run_command({"rpm", "--root", root.string(), "--define", "_dbpath /var/lib/rpm", "-qa", "--qf",
                                   "%{name} %|epoch?{%{epoch}:}:{}|%{version} %{release} %{arch}\\n"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<Installed> packages;
    for (const auto& t : token_lines(r.out))
        if (t.size() == 4 && t[0] != "gpg-pubkey") packages.push_back({t[0], t[1], t[2], t[3]});
    return packages;
}

// True when one line of `text` has name, [epoch:]version, release and arch as consecutive
// words (testtags' "=Pkg: name evr-version release arch" and most readable layouts).
bool lists_package(const std::vector<std::vector<std::string>>& lines, const Installed& p) {
    for (const auto& t : lines)
        for (std::size_t i = 0; i + 3 < t.size(); ++i)
            if (t[i] == p.name && t[i + 2] == p.release && t[i + 3] == p.arch) {
                const std::string& v = t[i + 1];
                std::string bare = p.epoch_version.substr(p.epoch_version.find(':') + 1);
                if (v == p.epoch_version || v == bare) return true;
            }
    return false;
}

class InventoryE2E : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(world_is_built()); }

    CommandResult inventory(std::vector<std::string> args) {
        args.insert(args.begin(), "inventory");
        return run_binary("ovirt-applier", args);
    }

    TempDir tmp_;
};

TEST_F(InventoryE2E, EngineRootIsDescribedWithEveryInstalledPackage) {
    const fs::path root = world_dir() / "roots/engine-4.3.7";
    const std::string rpmdb_before = read_file(root / "var/lib/rpm/rpmdb.sqlite");
    fs::path file = tmp_.path() / "engine.inventory";
    CommandResult r = inventory({"--role", "engine", "--root", root.string(), "-o", file.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string text = read_file(file);

    // The header a reviewer reads first.
    for (const char* line :
         {"#role: engine\n", "#hostname: engine.airgap.invalid\n", "#os-release: CentOS Linux 7 (Core)\n",
          "#os-version-id: 7\n", "#arch: x86_64\n", "#releasever: 7\n"})
        EXPECT_NE(text.find(line), std::string::npos) << line << text.substr(0, 600);
    // The repos the machine has enabled: upstream's ids from its own .repo files.
    EXPECT_NE(text.find("#repos: base centos-sclo-rh-release extras ovirt-4.3 ovirt-4.3-centos-gluster6 "
                        "ovirt-4.3-centos-opstools ovirt-4.3-centos-ovirt43 ovirt-4.3-centos-qemu-ev ovirt-4.3-epel "
                        "ovirt-4.3-virtio-win-latest sac-gluster-ansible updates\n"),
              std::string::npos)
        << "centosplus is disabled; every other section of CentOS-Base.repo and ovirt-release43 is enabled";

    // Every installed package, with its dependency data.
    auto lines = token_lines(text);
    std::vector<Installed> installed = rpm_query(root);
    ASSERT_EQ(installed.size(), 27u);  // roots/engine-4.3.7.list
    for (const auto& p : installed)
        EXPECT_TRUE(lists_package(lines, p)) << p.name << " " << p.epoch_version << " " << p.release << " " << p.arch;
    for (const char* dep : {"/bin/sh", "libc.so.6()(64bit)", "python-ovirt-engine-sdk4", "installonlypkg(kernel)"})
        EXPECT_NE(text.find(dep), std::string::npos) << dep;
    EXPECT_NE(text.find("#packages: 27\n"), std::string::npos);

    // Plain, reviewable text, and the machine was only read.
    for (unsigned char c : text) EXPECT_TRUE(c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) << int(c);
    EXPECT_EQ(read_file(root / "var/lib/rpm/rpmdb.sqlite"), rpmdb_before);
}

TEST_F(InventoryE2E, HostRootToStdout) {
    const fs::path root = world_dir() / "roots/host-4.3.7";
    CommandResult r = inventory({"--role", "host", "--root", root.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("#ovirt-airgap-inventory: 1\n", 0), 0u) << r.out.substr(0, 300);
    EXPECT_NE(r.out.find("#role: host\n"), std::string::npos);
    EXPECT_NE(r.out.find("#hostname: host1.airgap.invalid\n"), std::string::npos);
    auto lines = token_lines(r.out);
    for (const auto& p : rpm_query(root)) EXPECT_TRUE(lists_package(lines, p)) << p.name;
}

// `--root roots/host-4.3.7` from the world directory: a relative root reads the same rpmdb.
TEST_F(InventoryE2E, ARelativeRootIsTheSameRoot) {
    CommandResult absolute = inventory({"--role", "host", "--root", (world_dir() / "roots/host-4.3.7").string()});
    ASSERT_EQ(absolute.exit_code, 0) << absolute.err;
    CommandResult relative =
        run_command({"sh", "-c", "cd \"$1\" && exec \"$2\" inventory --role host --root roots/host-4.3.7", "sh",
                     world_dir().string(), binary("ovirt-applier").string()});
    ASSERT_EQ(relative.exit_code, 0) << relative.err;
    EXPECT_EQ(relative.out, absolute.out);
}

TEST_F(InventoryE2E, CarriesNoFileContents) {
    fs::path root = copy_world_root("engine-4.3.7", tmp_.path());
    write_file(root / "etc/ovirt-engine/engine.conf.d/10-setup-database.conf",
               "ENGINE_DB_PASSWORD=\"s3cr3t-airgap-canary\"\n");
    write_file(root / "etc/yum.repos.d/site.repo",
               "[site]\nname=Site mirror\nbaseurl=https://mirror.site.invalid/el7/\npassword=canary-repo-password\n"
               "username=canary-user\n");
    CommandResult r = inventory({"--role", "engine", "--root", root.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("s3cr3t-airgap-canary"), std::string::npos);
    EXPECT_EQ(r.out.find("canary-repo-password"), std::string::npos);
    EXPECT_EQ(r.out.find("canary-user"), std::string::npos);
    EXPECT_EQ(r.out.find("BEGIN PGP PUBLIC KEY"), std::string::npos);
}

TEST_F(InventoryE2E, UnknownRoleIsAUsageError) {
    CommandResult r = inventory({"--role", "frobnicator", "--root", (world_dir() / "roots/engine-4.3.7").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("frobnicator"), std::string::npos) << r.err;
}

TEST_F(InventoryE2E, MissingRootIsAUsageError) {
    fs::path missing = tmp_.path() / "no-such-root";
    fs::path file = tmp_.path() / "out.inventory";
    CommandResult r = inventory({"--role", "engine", "--root", missing.string(), "-o", file.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_FALSE(fs::exists(file)) << "a failed inventory left an output file";
    EXPECT_FALSE(fs::exists(missing));
}

TEST_F(InventoryE2E, UnwritableOutputIsAUsageError) {
    fs::path file = tmp_.path() / "no-such-dir/out.inventory";
    CommandResult r =
        inventory({"--role", "engine", "--root", (world_dir() / "roots/engine-4.3.7").string(), "-o", file.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_FALSE(fs::exists(file));
}

// `-o` names the file to write; a device, a symlink or a directory there is refused in one
// line and left exactly as it was (as root, a rename over /dev/null would replace the device).
TEST_F(InventoryE2E, OutputThatIsNotARegularFileIsRefusedAndKept) {
    const std::string root = (world_dir() / "roots/engine-4.3.7").string();
    fs::path target = tmp_.path() / "kept.txt";
    write_file(target, "the admin's file\n");
    fs::path link = tmp_.path() / "link.inventory";
    fs::create_symlink(target, link);
    fs::path dir = tmp_.path() / "dir.inventory";
    fs::create_directory(dir);
    fs::path device = tmp_.path() / "null.inventory";
    bool have_device = ::mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;

    for (const fs::path& out : {link, dir, device}) {
        if (out == device && !have_device) continue;
        CommandResult r = inventory({"--role", "engine", "--root", root, "-o", out.string()});
        EXPECT_EQ(r.exit_code, 1) << out;
        EXPECT_EQ(line_count(r.err), 1u) << r.err;
        EXPECT_NE(r.err.find("only regular files"), std::string::npos) << r.err;
    }
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(read_file(target), "the admin's file\n");
    EXPECT_TRUE(fs::is_directory(dir));
    EXPECT_TRUE(fs::is_empty(dir));
    if (have_device) {
        EXPECT_TRUE(fs::is_character_file(device));
    }
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(tmp_.path())) left.push_back(e.path().filename().string());
    EXPECT_EQ(left.size(), have_device ? 4u : 3u) << "a temp file was left behind";
}

}  // namespace
