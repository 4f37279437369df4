// End to end on an oVirt Node: a copy of the world's 4.3.7 host made into a Node (its
// os-release variant, imgbased's command and state directory, the layer in its fstab, and the
// world's signed ovirt-node-ng-image-update 4.3.7 installed with dnf); its inventory; resolve
// and build against the world's repos over HTTP. The independent checker is real dnf with its
// versionlock plugin and the lock list imgbased writes into every new layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/shared/http_server.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

const char* const kLayer = "ovirt-node-ng-4.3.7-0.20191121.0+1";

class NodeE2E : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        server_ = std::make_unique<HttpServer>(world_dir() / "repos");
        root_ = copy_world_root("host-4.3.7", tmp_.path());
        std::vector<std::string> install = world_dnf(root_);
        install.insert(install.end(), {"install", "-y", "ovirt-node-ng-image-update-4.3.7-1.el7"});
        CommandResult i = run_command(install);
        ASSERT_EQ(i.exit_code, 0) << i.out << i.err;
        make_node(root_);
        inventory_ = tmp_.path() / "node.inventory";
        CommandResult r = run_binary("ovirt-applier", {"inventory", "--root", root_.string(), "-o", inventory_.string()});
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }

    // What a Node's files say about it: os-release, imgbased, the layer's fstab root entry.
    static void make_node(const fs::path& root) {
        write_file(root / "etc/os-release",
                   "NAME=\"oVirt Node\"\nVERSION=\"4.3.7\"\nID=\"ovirt-node\"\nVERSION_ID=\"7\"\n"
                   "PRETTY_NAME=\"oVirt Node 4.3.7\"\nVARIANT=\"oVirt Node 4.3.7\"\nVARIANT_ID=\"ovirt-node\"\n");
        write_file(root / "usr/sbin/imgbase", "#!/bin/sh\n");
        fs::create_directories(root / "var/imgbased/persisted-rpms");
        write_file(root / "etc/fstab", std::string("/dev/onn/") + kLayer + " / ext4 defaults,discard 1 1\n");
    }

    // ovirt-bundler COMMAND -m WORLD/manifest.yaml --repo-url ID=http://... --cache DIR ARGS...
    CommandResult bundler(const std::string& command, const std::vector<std::string>& args) {
        std::vector<std::string> argv = {binary("ovirt-bundler").string(), command, "-m",
                                         (world_dir() / "manifest.yaml").string()};
        for (const auto& arg : world_repo_url_args(server_->url())) argv.push_back(arg);
        argv.insert(argv.end(), {"--cache", (tmp_.path() / "cache").string()});
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }

    // `dnf upgrade --assumeno` on `root` with dnf's versionlock plugin and the list imgbased
    // writes (src/imgbased/plugins/osupdater.py, configure_versionlock): one
    // name-version-release.arch line per installed package whose name lacks "image-update",
    // less `unlocked`. `reposdir` defaults to the world's repos.
    std::vector<std::string> dnf_upgrade_under_lock(const fs::path& root, const std::vector<std::string>& unlocked = {},
                                                    const fs::path& reposdir = {}) {
        fs::path conf = tmp_.path() / "pluginconf";
        fs::create_directories(conf);
        CommandResult q = run_command({"rpm", "--root", root.string(), "--define", "_dbpath /var/lib/rpm", "-qa",
                                       "--qf", "%{name} %{name}-%{version}-%{release}.%{arch}\\n"});
        EXPECT_EQ(q.exit_code, 0) << q.err;
        std::string list = std::string("# imgbased: versionlock begin for layer /dev/onn/") + kLayer + "\n";
        for (const auto& line : lines_of(q.out)) {
            std::string name = line.substr(0, line.find(' '));
            if (name.find("image-update") != std::string::npos || name == "gpg-pubkey") continue;
            if (std::count(unlocked.begin(), unlocked.end(), name)) continue;
            list += line.substr(line.find(' ') + 1) + "\n";
        }
        list += "# imgbased: versionlock end\n";
        write_file(conf / "versionlock.list", list);
        write_file(conf / "versionlock.conf", "[main]\nenabled=1\nlocklist=" + (conf / "versionlock.list").string() +
                                                  "\nfollow_obsoletes=1\n");
        CommandResult r = run_command(
            {"env", "HOME=" + (world_dir() / "home").string(), "dnf", "-v", "--releasever", "7", "--installroot",
             root.string(),
             "--setopt=reposdir=" + (reposdir.empty() ? world_dir() / "yum.repos.d" : reposdir).string(),
             "--setopt=pluginconfpath=" + conf.string(), "--disableplugin=*", "--enableplugin=versionlock", "upgrade",
             "--assumeno"});
        EXPECT_NE((r.out + r.err).find("Operation aborted."), std::string::npos) << r.out << r.err;
        EXPECT_NE((r.out + r.err).find("Versionlock plugin: number of lock rules"), std::string::npos)
            << "the versionlock plugin did not run: " << r.out << r.err;
        return dnf_transaction_packages(r.out);
    }

    TempDir tmp_;
    std::unique_ptr<HttpServer> server_;
    fs::path root_;
    fs::path inventory_;
};

std::vector<std::string> nevras_of(const nlohmann::json& packages) {
    std::vector<std::string> out;
    for (const auto& p : packages) out.push_back(p.value("nevra", ""));
    std::sort(out.begin(), out.end());
    return out;
}

bool lists(const nlohmann::json& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const nlohmann::json& l) { return l.get<std::string>().find(text) != std::string::npos; });
}

}  // namespace

TEST_F(NodeE2E, InventorySaysNodeAndLayer) {
    std::string text = read_file(inventory_);
    EXPECT_NE(text.find("#role: node\n"), std::string::npos) << text.substr(0, 800);
    EXPECT_NE(text.find("#variant: ovirt-node\n"), std::string::npos);
    EXPECT_NE(text.find(std::string("#layer: ") + kLayer + "\n"), std::string::npos);
    EXPECT_NE(text.find("=Pkg: ovirt-node-ng-image-update 4.3.7 1.el7 noarch\n"), std::string::npos);
}

TEST_F(NodeE2E, ResolveCarriesWhatDnfDoesUnderImgbasedsLock) {
    CommandResult r = bundler("resolve", {"--inventory", inventory_.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    nlohmann::json doc = nlohmann::json::parse(r.out);
    std::vector<std::string> resolved = nevras_of(doc["packages"]);
    EXPECT_EQ(resolved, std::vector<std::string>{"ovirt-node-ng-image-update-4.3.10-1.el7.noarch"});
    EXPECT_EQ(resolved, dnf_upgrade_under_lock(root_));
    // Held back, and said so: a plain `yum update` would have taken these.
    EXPECT_TRUE(lists(doc["locked"], "vdsm-4.30.38-1.el7.x86_64 (newer: 4.30.46-1.el7)")) << doc["locked"];
    EXPECT_TRUE(lists(doc["locked"], "kernel-3.10.0-1062.el7.x86_64 (newer: 3.10.0-1160.el7)")) << doc["locked"];

    CommandResult table = bundler("resolve", {"--inventory", inventory_.string()});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("locked on a Node (not carried)"), std::string::npos) << table.out;
}

TEST_F(NodeE2E, APersistedPackageIsUpdatedOnlyWhenAsked) {
    CommandResult r =
        bundler("resolve", {"--inventory", inventory_.string(), "--node-persisted", "ovirt-release43", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    nlohmann::json doc = nlohmann::json::parse(r.out);
    std::vector<std::string> resolved = nevras_of(doc["packages"]);
    EXPECT_EQ(resolved, (std::vector<std::string>{"ovirt-node-ng-image-update-4.3.10-1.el7.noarch",
                                                  "ovirt-release43-4.3.10-1.el7.noarch"}));
    EXPECT_EQ(resolved, dnf_upgrade_under_lock(root_, {"ovirt-release43"}));
    EXPECT_FALSE(lists(doc["locked"], "ovirt-release43")) << doc["locked"];

    // vdsm alone cannot move: the vdsm-* it requires at its own version stay locked.
    CommandResult held = bundler("resolve", {"--inventory", inventory_.string(), "--node-persisted", "vdsm"});
    EXPECT_EQ(held.exit_code, 3) << held.out << held.err;
    EXPECT_NE(held.err.find("nothing provides vdsm-"), std::string::npos) << held.err;

    CommandResult typo = bundler("resolve", {"--inventory", inventory_.string(), "--node-persisted", "vdsn"});
    EXPECT_EQ(typo.exit_code, 1) << typo.out << typo.err;
    EXPECT_EQ(line_count(typo.err), 1u) << typo.err;
    EXPECT_NE(typo.err.find("--node-persisted vdsn"), std::string::npos) << typo.err;
}

TEST_F(NodeE2E, BuildCarriesAndClaimsOnlyTheImageUpdate) {
    CommandResult k = run_binary("ovirt-bundler", {"keygen", "--out", (tmp_.path() / "keys").string()});
    ASSERT_EQ(k.exit_code, 0) << k.err;
    fs::path out = tmp_.path() / "bundle";
    CommandResult r = bundler("build", {"--inventory", inventory_.string(), "--sign-key",
                                        (tmp_.path() / "keys/signing-key.pem").string(), "--sign-cert",
                                        (tmp_.path() / "keys/signing-cert.pem").string(), "-o", out.string() + "/"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    nlohmann::json j = nlohmann::json::parse(read_file(out / "bundle.json"));
    EXPECT_EQ(j["roles"], nlohmann::json::array({"node"}));
    EXPECT_EQ(j["target_versions"], (nlohmann::json{{"node", {{"ovirt-node-ng-image-update", "4.3.10-1.el7"}}}}));
    EXPECT_EQ(nevras_of(j["packages"]), std::vector<std::string>{"ovirt-node-ng-image-update-4.3.10-1.el7.noarch"});

    // The Node's own dnf, under the lock and with only the bundle's repos, takes exactly that.
    std::string repofile;
    for (const auto& repo : j["repos"]) {
        repofile += "[bundle-" + repo["id"].get<std::string>() + "]\nname=bundle\nbaseurl=file://" +
                    (out / repo["path"].get<std::string>()).string() + "\ngpgcheck=1\ngpgkey=";
        for (const auto& key : repo["gpgkeys"]) repofile += "file://" + (out / key.get<std::string>()).string() + " ";
        repofile += "\n";
    }
    write_file(tmp_.path() / "bundle-repos/bundle.repo", repofile);
    EXPECT_EQ(dnf_upgrade_under_lock(root_, {}, tmp_.path() / "bundle-repos"),
              std::vector<std::string>{"ovirt-node-ng-image-update-4.3.10-1.el7.noarch"});
}
