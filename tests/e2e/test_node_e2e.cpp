// End to end on an oVirt Node: a copy of the world's 4.3.7 host made into a Node (its
// os-release variant, imgbased's command and state directory, the layer in its fstab, and the
// world's signed ovirt-node-ng-image-update 4.3.7 installed with dnf); its inventory; resolve
// and build against the world's repos over HTTP. The independent checker is real dnf with its
// versionlock plugin and the lock list imgbased writes into every new layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/shared/fake_engine.hpp"
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
        CommandResult r =
            run_binary("ovirt-applier", {"inventory", "--root", root_.string(), "-o", inventory_.string()});
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }

    // What a Node's files say about it: os-release, imgbased (the world's stand-in imgbase) and
    // its state directory, the layer's fstab root entry. The 4.3.7 image update's %post has
    // registered that layer; the Node has booted it.
    static void make_node(const fs::path& root) {
        write_file(root / "etc/os-release",
                   "NAME=\"oVirt Node\"\nVERSION=\"4.3.7\"\nID=\"ovirt-node\"\nVERSION_ID=\"7\"\n"
                   "PRETTY_NAME=\"oVirt Node 4.3.7\"\nVARIANT=\"oVirt Node 4.3.7\"\nVARIANT_ID=\"ovirt-node\"\n");
        fs::create_directories(root / "usr/sbin");
        fs::copy_file(source_path("tests/data/world/files/imgbase"), root / "usr/sbin/imgbase");
        fs::create_directories(root / "var/imgbased/persisted-rpms");
        write_file(root / "etc/fstab", std::string("/dev/onn/") + kLayer + " / ext4 defaults,discard 1 1\n");
        ASSERT_TRUE(fs::exists(imgbased_state(root) / "lvs" / kLayer));
        reboot(root);
    }

    // The stand-in imgbase's state: its LVs, what is mounted on /, what boots next.
    static fs::path imgbased_state(const fs::path& root) { return root / "var/lib/ovirt-airgap-test/imgbased"; }

    // A reboot, as imgbase sees it: the bootloader's default layer is mounted on /.
    static void reboot(const fs::path& root) {
        fs::copy_file(imgbased_state(root) / "next-boot", imgbased_state(root) / "root-lv",
                      fs::copy_options::overwrite_existing);
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
        write_file(conf / "versionlock.conf",
                   "[main]\nenabled=1\nlocklist=" + (conf / "versionlock.list").string() + "\nfollow_obsoletes=1\n");
        CommandResult r = run_command(
            {"env", "HOME=" + (world_dir() / "home").string(), "dnf", "-v", "--releasever", "7", "--installroot",
             root.string(), "--setopt=reposdir=" + (reposdir.empty() ? world_dir() / "yum.repos.d" : reposdir).string(),
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
    CommandResult r = bundler(
        "build", {"--inventory", inventory_.string(), "--sign-key", (tmp_.path() / "keys/signing-key.pem").string(),
                  "--sign-cert", (tmp_.path() / "keys/signing-cert.pem").string(), "-o", out.string() + "/"});
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

// --- appendix C on a Node: host --update -----------------------------------------------------

namespace {

const char* const kNewLayer = "ovirt-node-ng-4.3.10-0.20200615.0+1";

// The steps a run started, in order, from its "step NAME: running" lines.
std::vector<std::string> steps_run(const std::string& out) {
    std::vector<std::string> steps;
    const std::string prefix = "ovirt-applier: step ", suffix = ": running";
    for (const auto& line : lines_of(out))
        if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size() + suffix.size() &&
            line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0)
            steps.push_back(line.substr(prefix.size(), line.size() - prefix.size() - suffix.size()));
    return steps;
}

bool has_line(const std::string& out, const std::string& line) {
    auto all = lines_of(out);
    return std::find(all.begin(), all.end(), line) != all.end();
}

bool installed(const fs::path& root, const std::string& nevra) {
    auto all = installed_nevras(root);
    return std::find(all.begin(), all.end(), nevra) != all.end();
}

nlohmann::json journal_of(const fs::path& state) { return nlohmann::json::parse(read_file(state / "journal.json")); }

std::string step_status(const nlohmann::json& journal, const std::string& name) {
    for (const auto& step : journal["steps"])
        if (step["name"] == name) return step["status"];
    return "(none)";
}

// The Engine knows the Node (the world's host root is host1.airgap.invalid) as an oVirt Node,
// and another host to take its VM.
nlohmann::json node_scenario() {
    const long long gib = 1LL << 30;
    return nlohmann::json{
        {"transition_ms", 100},
        {"clusters", nlohmann::json::array({{{"name", "Default"}}})},
        {"hosts", nlohmann::json::array(
                      {{{"name", "host1.airgap.invalid"}, {"type", "ovirt_node"}, {"max_scheduling_memory", 32 * gib}},
                       {{"name", "host2"}, {"spm", true}, {"max_scheduling_memory", 32 * gib}}})},
        {"vms", nlohmann::json::array({{{"name", "vm1"}, {"host", "host1.airgap.invalid"}, {"memory", 4 * gib}}})},
    };
}

}  // namespace

class NodeUpdateE2E : public NodeE2E {
public:
    // One signed bundle for the Node, built by the bundler from its inventory (once per binary).
    struct Bundle {
        TempDir dir;
        fs::path path, cert;
        std::uint64_t image_size = 0;
    };
    const Bundle& bundle() {
        static std::unique_ptr<Bundle> made;
        if (!made) {
            auto b = std::make_unique<Bundle>();
            CommandResult k = run_binary("ovirt-bundler", {"keygen", "--out", (b->dir.path() / "keys").string()});
            EXPECT_EQ(k.exit_code, 0) << k.err;
            b->path = b->dir.path() / "bundle";
            b->cert = b->dir.path() / "keys/signing-cert.pem";
            CommandResult r = bundler("build", {"--inventory", inventory_.string(), "--sign-key",
                                                (b->dir.path() / "keys/signing-key.pem").string(), "--sign-cert",
                                                b->cert.string(), "-o", b->path.string() + "/"});
            EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
            nlohmann::json j = nlohmann::json::parse(read_file(b->path / "bundle.json"));
            for (const auto& p : j["packages"])
                for (const auto& f : j["files"])
                    if (f["path"] == p["path"]) b->image_size += f["size"].get<std::uint64_t>();
            made = std::move(b);
        }
        return *made;
    }

    std::vector<std::string> host_update(const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv = applier_argv("host", bundle().path, bundle().cert, root_, state_);
        argv.push_back("--update");
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }

    fs::path state_ = tmp_.path() / "state";
};

// The update brings only the image; imgbased's new layer is registered, the Node must reboot
// into it; a re-run before the reboot waits, after it checks the running layer and finishes.
TEST_F(NodeUpdateE2E, UpdateRegistersTheNewLayerAndTheRerunAfterTheRebootFinishes) {
    CommandResult r = run_command(host_update());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(steps_run(r.out),
              (std::vector<std::string>{"verify", "stage", "preflight", "repos", "update", "new-layer", "unstage"}));
    EXPECT_TRUE(has_line(r.out, std::string("ovirt-applier: imgbased registered the new layer ") + kNewLayer)) << r.out;
    EXPECT_TRUE(has_line(
        r.out, std::string("ovirt-applier: reboot needed: the Node boots into ") + kNewLayer + ", running " + kLayer))
        << r.out;
    EXPECT_TRUE(has_line(
        r.out, std::string("ovirt-applier: reboot into ") + kNewLayer + ", then run the same command again to finish"))
        << r.out;
    EXPECT_TRUE(installed(root_, "ovirt-node-ng-image-update-4.3.10-1.el7.noarch"));
    EXPECT_TRUE(installed(root_, "vdsm-4.30.38-1.el7.x86_64")) << "the lock holds vdsm on the Node";
    CommandResult layout = run_command({(root_ / "usr/sbin/imgbase").string(), "layout"});
    EXPECT_EQ(layout.out, std::string(kLayer).substr(0, std::string(kLayer).size() - 2) + "\n +- " + kLayer +
                              "\novirt-node-ng-4.3.10-0.20200615.0\n +- " + kNewLayer + "\n");
    nlohmann::json j = journal_of(state_);
    EXPECT_EQ(step_status(j, "unstage"), "done");
    EXPECT_EQ(step_status(j, "running-layer"), "pending");
    EXPECT_FALSE(fs::exists(state_ / "applied.json")) << "not applied before the Node runs the new layer";

    // Not rebooted yet: the same command waits for it, and changes nothing.
    auto before = installed_nevras(root_);
    CommandResult early = run_command(host_update());
    ASSERT_EQ(early.exit_code, 0) << early.out << early.err;
    EXPECT_EQ(steps_run(early.out), std::vector<std::string>{});
    EXPECT_TRUE(has_line(early.out, std::string("ovirt-applier: reboot first into ") + kNewLayer +
                                        ", then run the same command again to finish"))
        << early.out;

    // Booted into neither layer (the admin picked another boot entry): the run fails, exit 4.
    const std::string other = "ovirt-node-ng-4.3.6-0.20190926.0+1";
    write_file(imgbased_state(root_) / "root-lv", "/dev/onn/" + other + "\n");
    CommandResult wrong = run_command(host_update());
    EXPECT_EQ(wrong.exit_code, 4) << wrong.out << wrong.err;
    EXPECT_EQ(wrong.err,
              "ovirt-applier: error: step running-layer failed; run the same command again to resume: this "
              "Node runs " +
                  other + " after its reboot, not the new layer " + kNewLayer +
                  ": boot it (imgbase layout lists it), then run the same command again\n");
    EXPECT_FALSE(fs::exists(state_ / "applied.json"));

    reboot(root_);
    CommandResult after = run_command(host_update());
    ASSERT_EQ(after.exit_code, 0) << after.out << after.err;
    EXPECT_EQ(steps_run(after.out), std::vector<std::string>{"running-layer"});
    EXPECT_TRUE(has_line(after.out, std::string("ovirt-applier: this Node runs the new layer ") + kNewLayer))
        << after.out;
    EXPECT_EQ(installed_nevras(root_), before);
    EXPECT_EQ(step_status(journal_of(state_), "running-layer"), "done");
    EXPECT_TRUE(fs::exists(state_ / "applied.json"));
}

// Appendix C through the Engine: Maintenance, the update, the reboot notice with the host left
// in Maintenance; after the reboot the running layer is checked, then the host activated.
TEST_F(NodeUpdateE2E, ThroughTheEngineTheNodeIsActivatedOnlyOnItsNewLayer) {
    FakeEngine engine(node_scenario());
    auto argv = host_update({"--engine-url", engine.url(), "--user", "admin@internal", "--password-file",
                             engine.password_file().string(), "--ca-file", engine.ca_file().string()});
    argv.insert(argv.begin(), {"env", "OVIRT_AIRGAP_POLL_MS=20"});
    const std::string host = "host1.airgap.invalid";

    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(steps_run(r.out), (std::vector<std::string>{"verify", "stage", "preflight", "repos", "maintenance",
                                                          "update", "new-layer", "unstage"}));
    EXPECT_TRUE(has_line(r.out, "ovirt-applier: " + host + " stays in Maintenance: reboot into " + kNewLayer +
                                    ", then run the same command again to activate it"))
        << r.out;
    EXPECT_EQ(engine.state()["hosts"][host]["status"], "maintenance");
    EXPECT_EQ(engine.state()["vms"]["vm1"]["host"], "host2");

    reboot(root_);
    CommandResult again = run_command(argv);
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(steps_run(again.out), (std::vector<std::string>{"running-layer", "activate"}));
    EXPECT_EQ(engine.state()["hosts"][host]["status"], "up");
    auto log = engine.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), "POST hosts/" + host + "/activate"), 1);
}

// The thin pool must hold the image twice (the package in the running layer, the new base):
// refused before any change, with the numbers.
TEST_F(NodeUpdateE2E, NotEnoughSpaceInTheThinPoolIsRefusedWithTheNumbers) {
    write_file(imgbased_state(root_) / "pool-free-mb", "5.0\n");
    auto before = installed_nevras(root_);
    CommandResult r = run_command(host_update());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    std::uint64_t need_mib = (bundle().image_size * 2 + (1u << 20) - 1) >> 20;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: not enough free space in the Node's thin pool for the new image: 5 MiB "
              "free, " +
                  std::to_string(need_mib) + " MiB needed (imgbase layout --free-space)\n");
    EXPECT_GE(need_mib, 8u);  // the 4 MiB image, twice
    EXPECT_EQ(installed_nevras(root_), before);
    EXPECT_FALSE(fs::exists(state_ / "journal.json")) << "a refused run leaves no journal behind";

    // Room made: the same command goes through.
    write_file(imgbased_state(root_) / "pool-free-mb", "20480.0\n");
    CommandResult ok = run_command(host_update());
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

// A local storage domain on the filesystem of / blocks the image update (its own %pre): said
// before anything starts.
TEST_F(NodeUpdateE2E, ALocalStorageDomainOnRootIsRefusedBeforeStarting) {
    write_file(root_ / "data/local-sd/__DIRECT_IO_TEST__", "");
    auto before = installed_nevras(root_);
    CommandResult r = run_command(host_update());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: local storage domain on the filesystem of / (/data/local-sd): "
              "ovirt-node-ng-image-update refuses to install over it, and the new layer would leave its VMs behind; "
              "move it to a logical volume of its own first\n");
    EXPECT_EQ(steps_run(r.out), (std::vector<std::string>{"verify", "stage", "preflight"}));
    EXPECT_EQ(installed_nevras(root_), before);
    // The package's own check agrees: dnf cannot install it over the domain.
    std::vector<std::string> install = world_dnf(root_);
    install.insert(install.end(), {"upgrade", "-y", "ovirt-node-ng-image-update"});
    CommandResult d = run_command(install);
    EXPECT_NE(d.exit_code, 0) << d.out << d.err;
    EXPECT_FALSE(installed(root_, "ovirt-node-ng-image-update-4.3.10-1.el7.noarch"));
}

// imgbased failed to extract the image: the package is in, but no new layer. The run fails
// (exit 4) and says so; it never tells the admin to reboot into a layer that is not there.
TEST_F(NodeUpdateE2E, NoNewLayerAfterTheUpdateFailsTheRun) {
    write_file(imgbased_state(root_) / "update-fails", "");
    CommandResult r = run_command(host_update());
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.err,
              "ovirt-applier: error: step new-layer failed; run the same command again to resume: the update "
              "registered no new layer for ovirt-node-ng-image-update 4.3.10: imgbase layout --layers lists " +
                  std::string(kLayer) + " (imgbased logs to /var/log/imgbased.log)\n");
    EXPECT_EQ(r.out.find("reboot"), std::string::npos) << r.out;
    EXPECT_EQ(step_status(journal_of(state_), "new-layer"), "failed");
}

// The plan of a Node's update, and nothing changed: the Node's steps, only the image update.
TEST_F(NodeUpdateE2E, DryRunShowsTheNodeStepsAndOnlyTheImageUpdate) {
    auto before = installed_nevras(root_);
    CommandResult r = run_command(host_update({"--dry-run"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has_line(r.out,
                         "ovirt-applier: steps of `host`: verify, stage, preflight, repos, update, new-layer, "
                         "unstage, running-layer"))
        << r.out;
    EXPECT_TRUE(has_line(r.out, "ovirt-applier: 1 packages would be installed or updated")) << r.out;
    EXPECT_NE(r.out.find("ovirt-applier: package: ovirt-node-ng-image-update-4.3.10-1.el7.noarch (update"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(installed_nevras(root_), before);
    EXPECT_FALSE(fs::exists(state_ / "journal.json"));
}

// A Node already on the bundle's image, updating only a package the admin persisted: the
// package moves in the running layer, no new layer is expected and no reboot is asked for.
TEST_F(NodeUpdateE2E, OnlyAPersistedPackageNeedsNoNewLayerAndNoReboot) {
    std::vector<std::string> upgrade = world_dnf(root_);
    upgrade.insert(upgrade.end(), {"upgrade", "-y", "ovirt-node-ng-image-update"});
    CommandResult u = run_command(upgrade);
    ASSERT_EQ(u.exit_code, 0) << u.out << u.err;
    reboot(root_);
    CommandResult i = run_binary("ovirt-applier", {"inventory", "--root", root_.string(), "-o", inventory_.string()});
    ASSERT_EQ(i.exit_code, 0) << i.err;
    CommandResult k = run_binary("ovirt-bundler", {"keygen", "--out", (tmp_.path() / "keys").string()});
    ASSERT_EQ(k.exit_code, 0) << k.err;
    fs::path out = tmp_.path() / "persisted-bundle";
    CommandResult b = bundler("build", {"--inventory", inventory_.string(), "--node-persisted", "ovirt-release43",
                                        "--sign-key", (tmp_.path() / "keys/signing-key.pem").string(), "--sign-cert",
                                        (tmp_.path() / "keys/signing-cert.pem").string(), "-o", out.string() + "/"});
    ASSERT_EQ(b.exit_code, 0) << b.out << b.err;

    std::vector<std::string> argv = applier_argv("host", out, tmp_.path() / "keys/signing-cert.pem", root_, state_);
    argv.push_back("--update");
    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(steps_run(r.out), (std::vector<std::string>{"verify", "stage", "preflight", "repos", "update",
                                                          "new-layer", "unstage", "running-layer"}));
    EXPECT_TRUE(has_line(r.out, "ovirt-applier: no image update for this Node in the bundle: no new layer, no reboot"))
        << r.out;
    EXPECT_EQ(r.out.find("reboot into"), std::string::npos) << r.out;
    EXPECT_TRUE(installed(root_, "ovirt-release43-4.3.10-1.el7.noarch"));
    EXPECT_TRUE(fs::exists(state_ / "applied.json"));
}

// Staged for the Engine's own host upgrade (`hosts`, which upgrades an ovirt_node host too):
// a Node takes its node bundle like a host takes a host bundle, and changes no package.
TEST_F(NodeUpdateE2E, StagingOnANodeTakesTheNodeBundle) {
    auto before = installed_nevras(root_);
    CommandResult r = run_command(applier_argv("host", bundle().path, bundle().cert, root_, state_));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(steps_run(r.out), (std::vector<std::string>{"verify", "stage", "repos"}));
    EXPECT_EQ(installed_nevras(root_), before);
    nlohmann::json j = journal_of(state_);
    std::string repofile = "etc/yum.repos.d/ovirt-airgap-" + j["bundle"]["id"].get<std::string>() + ".repo";
    EXPECT_TRUE(fs::exists(root_ / repofile)) << repofile;
}
