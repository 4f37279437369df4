// End to end: one medium into the engine updates the whole site. The engine applies a bundle
// with --publish; its Apache (tests/shared/apache_standin.py, HTTPS with a test CA made here
// with openssl) serves the published tree; a host root enrols once with --from-engine; then the
// Engine's host upgrade runs as the real one does (ovirt-engine 4.3's ovirt-host-upgrade role:
// yum with every enabled repo of the host, here dnf --installroot with the host's own repo files,
// skip_if_unavailable=False, no plugins) and the host reaches what a connected update reaches.
// A bundle published later is picked up with no step on the host. `status`, in text and in
// JSON, shows the published bundles on the engine and the enrolment on a host. Refused: a
// published bundle.json that no longer verifies, an RPM replaced on the server (gpgcheck),
// repomd.xml changed on the server (repo_gpgcheck), an HTTPS certificate the host's CA does not
// vouch for.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/shared/server_process.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;
using nlohmann::json;

namespace {

// A CA and a certificate it signs for 127.0.0.1, made with the openssl CLI.
struct TestCa {
    fs::path ca_cert, server_cert, server_key;
};

TestCa make_ca(const fs::path& dir, const std::string& name) {
    fs::create_directories(dir);
    TestCa ca{dir / (name + "-ca.pem"), dir / (name + "-server.pem"), dir / (name + "-server.key")};
    fs::path ca_key = dir / (name + "-ca.key"), csr = dir / (name + ".csr"), ext = dir / (name + ".ext");
    must({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key.string(), "-out",
          ca.ca_cert.string(), "-days", "2", "-subj", "/CN=" + name + " engine CA"});
    must({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", ca.server_key.string(), "-out", csr.string(),
          "-subj", "/CN=127.0.0.1"});
    write_file(ext, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    must({"openssl", "x509", "-req", "-in", csr.string(), "-CA", ca.ca_cert.string(), "-CAkey", ca_key.string(),
          "-CAcreateserial", "-out", ca.server_cert.string(), "-days", "2", "-extfile", ext.string()});
    return ca;
}

// The engine's Apache stand-in serving `docroot` over HTTPS, from construction to destruction.
class EngineApache {
public:
    EngineApache(const fs::path& docroot, const TestCa& ca, const fs::path& work)
        : log_(work / "apache.log"),
          server_({"python3", source_path("tests/shared/apache_standin.py").string(), "--docroot", docroot.string(),
                   "--cert", ca.server_cert.string(), "--key", ca.server_key.string(), "--log", log_.string()}) {}
    bool listening() const { return server_.running(); }
    std::string url() const { return server_.url("https", "/ovirt-airgap/"); }
    std::string log() const { return read_file(log_); }

private:
    fs::path log_;
    ServerProcess server_;
};

// `status --json` of `root` with state dir `state`, parsed.
json status_json(const fs::path& root, const fs::path& state) {
    CommandResult r =
        run_binary("ovirt-applier", {"status", "--json", "--root", root.string(), "--state-dir", state.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

bool mentions(const std::string& text, const std::string& word) {
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower.find(word) != std::string::npos;
}

// The enrolment's own repo files of `host`, with their bytes.
std::map<std::string, std::string> enrolled_files(const fs::path& host) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(host / "etc/yum.repos.d"))
        if (e.path().filename().string().rfind("ovirt-airgap-enrolled-", 0) == 0)
            out[e.path().filename().string()] = read_file(e.path());
    return out;
}

// Every file under `dir` with its bytes: what "given back exactly" compares.
std::map<std::string, std::string> tree_of(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out[e.path().lexically_relative(dir).string()] = read_file(e.path());
    return out;
}

class PublishE2E : public ::testing::Test {
public:
    static void SetUpTestSuite() {
        if (!world_is_built()) return;
        dir_ = std::make_unique<TempDir>();
        const fs::path d = dir_->path();
        inputs_ = engine_build_inputs(d);
        host_inventory_ = d / "host.inventory";
        CommandResult inv = run_command({binary("ovirt-applier").string(), "inventory", "--role", "host", "--root",
                                         (world_dir() / "roots/host-4.3.7").string(), "-o", host_inventory_.string()});
        ASSERT_EQ(inv.exit_code, 0) << inv.err;
        // The world's repo signing key, exported as a site exports its offline key.
        fs::path home = d / "world-gnupg";
        must({"cp", "-a", (world_dir() / "gnupg").string(), home.string()});
        CommandResult e = run_command({"gpg", "--homedir", home.string(), "--batch", "--pinentry-mode", "loopback",
                                       "--passphrase", "", "--armor", "--export-secret-keys"});
        run_command({"gpgconf", "--homedir", home.string(), "--kill", "gpg-agent"});
        ASSERT_EQ(e.exit_code, 0) << e.err;
        write_file(d / "repodata-secret.asc", e.out);
        // Served over file:// URLs: the world's repos as the connected site's mirror.
        for (auto [out, serial] : {std::pair{d / "bundle1", "100"}, std::pair{d / "bundle2", "200"}}) {
            std::vector<std::string> argv = {binary("ovirt-bundler").string(), "build", "-m",
                                             (world_dir() / "manifest.yaml").string()};
            argv.insert(argv.end(),
                        {"--cache", (d / "cache").string(), "--inventory", inputs_.inventory.string(), "--inventory",
                         host_inventory_.string(), "--sign-key", inputs_.key.string(), "--sign-cert",
                         inputs_.cert.string(), "--sign-repodata", (d / "repodata-secret.asc").string(), "--serial",
                         serial, "-o", out.string() + "/"});
            CommandResult b = run_command(argv);
            ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
        }
        connected_ = connected_upgrade("host-4.3.7", d / "connected");
        ca_ = make_ca(d / "pki", "engine");
        other_ca_ = make_ca(d / "pki", "other");
    }
    static void TearDownTestSuite() { dir_.reset(); }

    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        ASSERT_TRUE(dir_) << "the suite's bundles were not built";
    }

    static fs::path bundle(int n) { return dir_->path() / ("bundle" + std::to_string(n)); }
    static std::string id_of(const fs::path& b) {
        std::string j = read_file(b / "bundle.json");
        auto at = j.find("\"id\": \"");
        return j.substr(at + 7, 36);
    }

    CommandResult publish(const fs::path& b, const fs::path& root, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv{binary("ovirt-applier").string(),
                                      "publish",
                                      b.string(),
                                      "--trust",
                                      inputs_.cert.string(),
                                      "--root",
                                      root.string(),
                                      "--state-dir",
                                      (root / "var/lib/ovirt-airgap").string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv);
    }

    CommandResult enrol(const fs::path& host, const std::string& url, const fs::path& ca) {
        return run_command({binary("ovirt-applier").string(), "host", "--from-engine", url, "--ca-file", ca.string(),
                            "--trust", inputs_.cert.string(), "--root", host.string(), "--state-dir",
                            state_of(host).string()});
    }

    static fs::path state_of(const fs::path& host) { return host.string() + "-state"; }

    // The Engine's host upgrade: yum with the host's own repo files, every enabled repo.
    CommandResult engine_host_upgrade(const fs::path& host, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv{(world_dir() / "bin/dnf").string(),
                                      "--installroot",
                                      host.string(),
                                      "--setopt=reposdir=" + (host / "etc/yum.repos.d").string(),
                                      "--setopt=cachedir=" + (host.string() + "-dnf-cache"),
                                      "--setopt=skip_if_unavailable=False"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.insert(argv.end(), {"upgrade", "-y"});
        return run_command(argv);
    }

    TempDir tmp_;
    static std::unique_ptr<TempDir> dir_;
    static EngineBuildInputs inputs_;
    static fs::path host_inventory_;
    static std::vector<std::string> connected_;
    static TestCa ca_, other_ca_;
};

std::unique_ptr<TempDir> PublishE2E::dir_;
EngineBuildInputs PublishE2E::inputs_;
fs::path PublishE2E::host_inventory_;
std::vector<std::string> PublishE2E::connected_;
TestCa PublishE2E::ca_, PublishE2E::other_ca_;

TEST_F(PublishE2E, OneMediumIntoTheEngineUpdatesEnrolledHostsAndALaterBundleNeedsNoStepThere) {
    // The engine: its own update, then publishing.
    fs::path engine = copy_world_root("engine-4.3.7", tmp_.path());
    std::vector<std::string> argv =
        applier_argv("engine", bundle(1), inputs_.cert, engine, tmp_.path() / "engine-state");
    argv.push_back("--publish");
    CommandResult e = run_command(argv);
    ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
    const std::string id1 = id_of(bundle(1)), id2 = id_of(bundle(2));
    fs::path pub = engine / "var/www/html/ovirt-airgap";
    EXPECT_EQ(fs::read_symlink(pub / "current"), fs::path(id1));
    EXPECT_EQ(read_file(pub / id1 / "bundle.json"), read_file(bundle(1) / "bundle.json"));
    EXPECT_EQ(read_file(pub / id1 / "bundle.json.p7s"), read_file(bundle(1) / "bundle.json.p7s"));
    EXPECT_EQ(fs::status(pub / id1 / "repos/ovirt-4.3/repodata/repomd.xml").permissions(), fs::perms(0444));
    CommandResult st = run_binary(
        "ovirt-applier", {"status", "--root", engine.string(), "--state-dir", (tmp_.path() / "engine-state").string()});
    EXPECT_NE(st.out.find("published: " + id1 + " (serial 100"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("(current)"), std::string::npos) << st.out;
    // The same facts in `status --json`: the published bundle, current, and no enrolment.
    json sj = status_json(engine, tmp_.path() / "engine-state");
    EXPECT_EQ(sj["published"]["dir"], pub.string()) << sj.dump(2);
    EXPECT_EQ(sj["published"]["current"], id1) << sj.dump(2);
    ASSERT_EQ(sj["published"]["bundles"].size(), 1u) << sj.dump(2);
    EXPECT_EQ(sj["published"]["bundles"][0]["id"], id1);
    EXPECT_EQ(sj["published"]["bundles"][0]["serial"], 100);
    EXPECT_EQ(sj["published"]["bundles"][0]["expires"], json::parse(read_file(bundle(1) / "bundle.json"))["expires"]);
    EXPECT_EQ(sj["published"]["bundles"][0]["current"], true);
    EXPECT_TRUE(sj["enrolment"].is_null()) << sj.dump(2);

    EngineApache apache(engine / "var/www/html", ca_, tmp_.path());
    ASSERT_TRUE(apache.listening());

    // Two hosts enrol while bundle 1 is current; their upstream repos are held.
    fs::path host_a = copy_world_root("host-4.3.7", tmp_.path() / "a");
    fs::path host_b = copy_world_root("host-4.3.7", tmp_.path() / "b");
    auto upstream_before = tree_of(host_a / "etc/yum.repos.d");
    for (const fs::path& h : {host_a, host_b}) {
        CommandResult r = enrol(h, apache.url(), ca_.ca_cert);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    // `status` on an enrolled host says where it reads from, in text and in JSON alike.
    const auto a_repos = enrolled_files(host_a);
    CommandResult hs =
        run_binary("ovirt-applier", {"status", "--root", host_a.string(), "--state-dir", state_of(host_a).string()});
    EXPECT_NE(hs.out.find("enrolled with " + apache.url() + " (" + std::to_string(a_repos.size()) +
                          " repo files; bundle " + id1 + " was current when enrolled)\n"),
              std::string::npos)
        << hs.out;
    json hj = status_json(host_a, state_of(host_a));
    EXPECT_EQ(hj["enrolment"]["url"], apache.url()) << hj.dump(2);
    EXPECT_EQ(hj["enrolment"]["bundle_id"], id1) << hj.dump(2);
    std::set<std::string> json_repo_files;
    for (const auto& f : hj["enrolment"]["repo_files"]) json_repo_files.insert(fs::path(f).filename().string());
    std::set<std::string> on_disk;
    for (const auto& [name, text] : a_repos) on_disk.insert(name);
    EXPECT_EQ(json_repo_files, on_disk);
    ASSERT_FALSE(hj["enrolment"]["keys"].empty()) << hj.dump(2);
    for (const auto& k : hj["enrolment"]["keys"]) EXPECT_TRUE(fs::exists(k.get<std::string>())) << k;
    EXPECT_TRUE(hj["published"].is_null()) << hj.dump(2);

    std::string repofile = read_file(host_a / "etc/yum.repos.d/ovirt-airgap-enrolled-ovirt-4.3.repo");
    EXPECT_NE(repofile.find("baseurl=" + apache.url() + "current/repos/ovirt-4.3/\n"), std::string::npos) << repofile;
    EXPECT_NE(repofile.find("sslcacert=" + ca_.ca_cert.string() + "\n"), std::string::npos) << repofile;
    EXPECT_NE(repofile.find("\ngpgcheck=1\n"), std::string::npos) << repofile;
    EXPECT_NE(repofile.find("\nrepo_gpgcheck=1\n"), std::string::npos) << repofile;
    for (const auto& [name, text] : tree_of(host_a / "etc/yum.repos.d")) {
        if (name.rfind("ovirt-airgap-", 0) == 0) continue;
        EXPECT_EQ(text.find("enabled=1"), std::string::npos) << name;
    }

    // Host A upgraded by the Engine: what a connected update reaches.
    CommandResult a = engine_host_upgrade(host_a);
    ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
    EXPECT_EQ(installed_nevras(host_a), connected_);
    EXPECT_NE(apache.log().find("GET /ovirt-airgap/current/repos/ovirt-4.3/repodata/repomd.xml.asc 200"),
              std::string::npos);

    // A later bundle, published alone; the older one removed (--keep 0). Host B, untouched
    // since it enrolled, is upgraded from it.
    auto b_repos = enrolled_files(host_b);
    CommandResult p2 = publish(bundle(2), engine, {"--keep", "0"});
    ASSERT_EQ(p2.exit_code, 0) << p2.out << p2.err;
    EXPECT_EQ(fs::read_symlink(pub / "current"), fs::path(id2));
    EXPECT_FALSE(fs::exists(pub / id1));
    sj = status_json(engine, tmp_.path() / "engine-state");
    EXPECT_EQ(sj["published"]["current"], id2) << sj.dump(2);
    ASSERT_EQ(sj["published"]["bundles"].size(), 1u) << sj.dump(2);
    EXPECT_EQ(sj["published"]["bundles"][0]["serial"], 200);
    CommandResult b = engine_host_upgrade(host_b);
    ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
    EXPECT_EQ(installed_nevras(host_b), connected_);
    EXPECT_EQ(enrolled_files(host_b), b_repos);

    // Publishing the older bundle again would roll every host back.
    CommandResult back = publish(bundle(1), engine);
    EXPECT_EQ(back.exit_code, 2) << back.out << back.err;
    EXPECT_NE(back.err.find("rollback refused"), std::string::npos) << back.err;
    EXPECT_EQ(fs::read_symlink(pub / "current"), fs::path(id2));

    // --unenrol gives the upstream repos back exactly and removes the enrolment's files.
    CommandResult u = run_binary(
        "ovirt-applier", {"host", "--unenrol", "--root", host_a.string(), "--state-dir", state_of(host_a).string()});
    ASSERT_EQ(u.exit_code, 0) << u.out << u.err;
    EXPECT_TRUE(enrolled_files(host_a).empty());
    // Every upstream file as it was; beside them only what rpm itself wrote when ovirt-release43
    // was updated under a changed repo file (its .rpmnew).
    auto after = tree_of(host_a / "etc/yum.repos.d");
    for (const auto& [name, text] : upstream_before) EXPECT_EQ(after[name], text) << name;
    for (const auto& [name, text] : after) {
        if (upstream_before.count(name)) continue;
        EXPECT_NE(name.find(".rpmnew"), std::string::npos) << name;
    }
    EXPECT_FALSE(fs::exists(host_a / "etc/pki/ovirt-airgap/enrolled"));
}

TEST_F(PublishE2E, APublishedBundleJsonThatNoLongerVerifiesIsRefusedAndNothingIsWritten) {
    fs::path engine = tmp_.path() / "engine";
    CommandResult p = publish(bundle(1), engine);
    ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
    fs::path served = engine / "var/www/html/ovirt-airgap" / id_of(bundle(1)) / "bundle.json";
    fs::permissions(served, fs::perms::owner_write, fs::perm_options::add);
    std::string text = read_file(served);
    text.replace(text.find("\"serial\": 100"), 13, "\"serial\": 900");
    write_file(served, text);
    EngineApache apache(engine / "var/www/html", ca_, tmp_.path());
    ASSERT_TRUE(apache.listening());
    fs::path host = copy_world_root("host-4.3.7", tmp_.path());
    auto before = tree_of(host / "etc");
    CommandResult r = enrol(host, apache.url(), ca_.ca_cert);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("does not verify"), std::string::npos) << r.err;
    EXPECT_EQ(tree_of(host / "etc"), before);
}

TEST_F(PublishE2E, AnHttpsCertificateTheHostsCaDoesNotVouchForIsRefused) {
    fs::path engine = tmp_.path() / "engine";
    ASSERT_EQ(publish(bundle(1), engine).exit_code, 0);
    EngineApache apache(engine / "var/www/html", ca_, tmp_.path());
    ASSERT_TRUE(apache.listening());
    fs::path host = copy_world_root("host-4.3.7", tmp_.path());
    auto before = tree_of(host / "etc");
    CommandResult r = enrol(host, apache.url(), other_ca_.ca_cert);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
    EXPECT_EQ(tree_of(host / "etc"), before);
    // Plain HTTP is refused before anything is fetched.
    CommandResult h = enrol(host, "http://127.0.0.1:1/ovirt-airgap/", ca_.ca_cert);
    EXPECT_EQ(h.exit_code, 1) << h.err;
    EXPECT_NE(h.err.find("https://"), std::string::npos) << h.err;
}

TEST_F(PublishE2E, TamperedServedPackagesOrMetadataAreRefusedByTheHostsOwnYum) {
    fs::path engine = tmp_.path() / "engine";
    ASSERT_EQ(publish(bundle(1), engine).exit_code, 0);
    EngineApache apache(engine / "var/www/html", ca_, tmp_.path());
    ASSERT_TRUE(apache.listening());
    fs::path host = copy_world_root("host-4.3.7", tmp_.path());
    CommandResult r = enrol(host, apache.url(), ca_.ca_cert);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto installed = installed_nevras(host);

    // A server broken into: vdsm's new RPM replaced by one without a signature, and the repo's
    // metadata regenerated to match it.
    fs::path repo = engine / "var/www/html/ovirt-airgap" / id_of(bundle(1)) / "repos/ovirt-4.3";
    fs::path repomd_asc = tmp_.path() / "repomd.xml.asc";
    fs::copy_file(repo / "repodata/repomd.xml.asc", repomd_asc);
    must({"chmod", "-R", "u+w", repo.string()});
    fs::path rpm;
    for (const auto& f : fs::directory_iterator(repo / "Packages"))
        if (f.path().filename().string().rfind("vdsm-4.30.46", 0) == 0) rpm = f.path();
    ASSERT_FALSE(rpm.empty());
    must({"rpmsign", "--delsign", rpm.string()});
    must({"createrepo_c", "--quiet", repo.string()});
    fs::copy_file(repomd_asc, repo / "repodata/repomd.xml.asc", fs::copy_options::overwrite_existing);

    // repo_gpgcheck refuses the metadata; with it off, gpgcheck refuses the package.
    CommandResult md = engine_host_upgrade(host);
    EXPECT_NE(md.exit_code, 0) << md.out << md.err;
    EXPECT_TRUE(mentions(md.out + md.err, "signature")) << md.out << md.err;
    CommandResult pkg = engine_host_upgrade(host, {"--setopt=*.repo_gpgcheck=0"});
    EXPECT_NE(pkg.exit_code, 0) << pkg.out << pkg.err;
    EXPECT_TRUE(mentions(pkg.out + pkg.err, "not signed")) << pkg.out << pkg.err;
    EXPECT_EQ(installed_nevras(host), installed);
}

}  // namespace
