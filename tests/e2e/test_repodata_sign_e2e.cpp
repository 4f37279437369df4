// End to end: `ovirt-bundler build --sign-repodata KEYFILE` signs each bundle repo's repomd.xml.
// Checked as a site would: gpg verifies every repomd.xml.asc with only the public key the
// bundle carries; the repos, served over HTTP as the engine would serve them, are accepted by
// dnf with repo_gpgcheck on (the applier's own repo file), and refused when the metadata were
// regenerated without a new signature or the signature is missing. A key that cannot sign is
// refused before anything is downloaded, and a bundle built without the option gains nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "repo/apply/yum_repos.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "tests/shared/http_server.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

const std::string kKeyPath = "keys/RPM-GPG-KEY-ovirt-airgap-repodata";

// Every file of `dir` (relative paths), the checksum that createrepo_c puts before each
// metadata file's name ("<sha256>-primary.xml.gz") shown as "*": it changes with every build.
std::set<std::string> layout_of(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::string rel = e.path().lexically_relative(dir).generic_string();
        std::string name = e.path().filename().string();
        if (e.path().parent_path().filename() == "repodata" && name.size() > 65 && name[64] == '-')
            rel = rel.substr(0, rel.size() - name.size()) + "*" + name.substr(64);
        out.insert(rel);
    }
    return out;
}

nlohmann::json bundle_json(const fs::path& dir) { return nlohmann::json::parse(read_file(dir / "bundle.json")); }

bool mentions(const std::string& text, const std::string& word) {
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower.find(word) != std::string::npos;
}

class RepodataSignE2E : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        server_ = std::make_unique<HttpServer>(world_dir() / "repos");
        inputs_ = engine_build_inputs(tmp_.path());
        // The world's signing key, exported as a site exports its offline key; from a copy of
        // its GnuPG home, so that no agent runs in the shared world.
        fs::path home = tmp_.path() / "world-gnupg";
        must({"cp", "-a", (world_dir() / "gnupg").string(), home.string()});
        CommandResult e = run_command({"gpg", "--homedir", home.string(), "--batch", "--pinentry-mode", "loopback",
                                       "--passphrase", "", "--armor", "--export-secret-keys"});
        run_command({"gpgconf", "--homedir", home.string(), "--kill", "gpg-agent"});
        ASSERT_EQ(e.exit_code, 0) << e.err;
        ASSERT_NE(e.out.find("PRIVATE KEY BLOCK"), std::string::npos);
        write_file(secret_key(), e.out);
    }

    fs::path secret_key() const { return tmp_.path() / "repodata-secret.asc"; }

    // Every bundle here is a directory: its name ends in '/', as the bundler asks.
    CommandResult build(const fs::path& out, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv = {binary("ovirt-bundler").string(), "build", "-m",
                                         (world_dir() / "manifest.yaml").string()};
        for (const auto& arg : world_repo_url_args(server_->url())) argv.push_back(arg);
        argv.insert(argv.end(), {"--cache", (tmp_.path() / "cache").string(), "--inventory", inputs_.inventory.string(),
                                 "--sign-key", inputs_.key.string(), "--sign-cert", inputs_.cert.string(), "-o",
                                 out.string() + "/"});
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv);
    }

    // `dnf upgrade -y` of a fresh copy of the 4.3.7 engine root from the repos of the repo file
    // `reposdir`, repo_gpgcheck forced on (or off for the control), a fresh cache each time so
    // that nothing verified before is reused.
    CommandResult dnf_upgrade(const fs::path& reposdir, const std::string& name, bool repo_gpgcheck = true) {
        fs::path dir = tmp_.path() / ("dnf-" + name);
        fs::path root = copy_world_root("engine-4.3.7", dir);
        last_root_ = root;
        return run_command({(world_dir() / "bin" / "dnf").string(), "--installroot", root.string(),
                            "--setopt=reposdir=" + reposdir.string(), "--setopt=cachedir=" + (dir / "cache").string(),
                            std::string("--setopt=*.repo_gpgcheck=") + (repo_gpgcheck ? "1" : "0"),
                            "--setopt=*.skip_if_unavailable=0", "upgrade", "-y"});
    }

    // The applier's repo file for `bundle`, its file:// URLs pointed at `base_url` instead: the
    // bundle served over HTTP, as a web server on the engine serves it to the hosts.
    fs::path served_repofile(const fs::path& bundle, const std::string& base_url, const std::string& name) {
        auto m = airgap::repo::parse_bundle_manifest(read_file(bundle / "bundle.json"));
        std::string text = airgap::repo::render_bundle_repofile(m, bundle);
        EXPECT_NE(text.find("\nrepo_gpgcheck=1\n"), std::string::npos) << text;
        const std::string from = "file://" + bundle.string();
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at))
            text.replace(at, from.size(), base_url);
        fs::path dir = tmp_.path() / ("reposdir-" + name);
        write_file(dir / "bundle.repo", text);
        return dir;
    }

    TempDir tmp_;
    std::unique_ptr<HttpServer> server_;
    EngineBuildInputs inputs_;
    fs::path last_root_;
};

TEST_F(RepodataSignE2E, GpgVerifiesEachRepomdWithTheCarriedKeyAndTheLayoutOnlyGainsThem) {
    fs::path plain = tmp_.path() / "plain", signed_ = tmp_.path() / "signed";
    CommandResult p = build(plain);
    ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
    CommandResult s = build(signed_, {"--sign-repodata", secret_key().string()});
    ASSERT_EQ(s.exit_code, 0) << s.out << s.err;

    nlohmann::json j = bundle_json(signed_);
    std::map<std::string, nlohmann::json> listed;
    for (const auto& f : j["files"]) listed[f["path"]] = f;
    std::set<std::string> added = {kKeyPath};
    // Only the carried public key in an empty GnuPG home: what verifies is that key alone.
    fs::path home = tmp_.path() / "checker-gnupg";
    fs::create_directories(home);
    fs::permissions(home, fs::perms::owner_all);
    CommandResult imp =
        run_command({"gpg", "--homedir", home.string(), "--batch", "--import", (signed_ / kKeyPath).string()});
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
    ASSERT_EQ(j["repos"].size(), world_repos().size());
    for (const auto& r : j["repos"]) {
        std::string asc = r["path"].get<std::string>() + "/repodata/repomd.xml.asc";
        std::string xml = r["path"].get<std::string>() + "/repodata/repomd.xml";
        added.insert(asc);
        EXPECT_EQ(read_file(signed_ / asc).rfind("-----BEGIN PGP SIGNATURE-----", 0), 0u) << asc;
        // Listed and hashed in the signed manifest, as the key is.
        ASSERT_EQ(listed.count(asc), 1u) << asc;
        EXPECT_EQ(listed[asc]["sha256"], airgap::repo::hash_file(signed_ / asc).sha256);
        EXPECT_NE(std::find(r["gpgkeys"].begin(), r["gpgkeys"].end(), kKeyPath), r["gpgkeys"].end()) << r;
        CommandResult v = run_command({"gpg", "--homedir", home.string(), "--batch", "--verify",
                                       (signed_ / asc).string(), (signed_ / xml).string()});
        EXPECT_EQ(v.exit_code, 0) << asc << ": " << v.err;
        EXPECT_NE(v.err.find("Good signature"), std::string::npos) << v.err;
        // The checker itself refuses other bytes under that signature.
        write_file(tmp_.path() / "other-repomd.xml", read_file(signed_ / xml) + "\n");
        CommandResult bad = run_command({"gpg", "--homedir", home.string(), "--batch", "--verify",
                                         (signed_ / asc).string(), (tmp_.path() / "other-repomd.xml").string()});
        EXPECT_NE(bad.exit_code, 0) << bad.err;
    }
    ASSERT_EQ(listed.count(kKeyPath), 1u);
    EXPECT_EQ(listed[kKeyPath]["sha256"], airgap::repo::hash_file(signed_ / kKeyPath).sha256);
    run_command({"gpgconf", "--homedir", home.string(), "--kill", "gpg-agent"});

    // Without --sign-repodata: the same layout less exactly those files, and no repo names the key.
    std::set<std::string> expected = layout_of(plain);
    EXPECT_EQ(expected.count(kKeyPath), 0u);
    for (const auto& f : expected) EXPECT_EQ(f.find("repomd.xml.asc"), std::string::npos) << f;
    expected.insert(added.begin(), added.end());
    EXPECT_EQ(layout_of(signed_), expected);
    for (const auto& r : bundle_json(plain)["repos"])
        EXPECT_EQ(std::find(r["gpgkeys"].begin(), r["gpgkeys"].end(), kKeyPath), r["gpgkeys"].end()) << r;
    auto plain_m = airgap::repo::parse_bundle_manifest(read_file(plain / "bundle.json"));
    EXPECT_EQ(airgap::repo::render_bundle_repofile(plain_m, plain).find("repo_gpgcheck"), std::string::npos);
}

TEST_F(RepodataSignE2E, DnfWithRepoGpgcheckAcceptsTheServedBundleAndRefusesTamperedOrUnsignedMetadata) {
    fs::path bundle = tmp_.path() / "bundle";
    CommandResult b = build(bundle, {"--sign-repodata", secret_key().string()});
    ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
    HttpServer served(bundle);
    fs::path reposdir = served_repofile(bundle, served.url(), "good");

    // Accepted: dnf fetched each repo's signature and the update went through.
    CommandResult ok = dnf_upgrade(reposdir, "good");
    ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    std::vector<std::string> requests = served.requests();
    for (const auto& repo : world_repos())
        EXPECT_NE(std::find(requests.begin(), requests.end(), "/repos/" + repo + "/repodata/repomd.xml.asc"),
                  requests.end())
            << repo;
    auto installed = installed_nevras(last_root_);
    EXPECT_NE(std::find(installed.begin(), installed.end(), "ovirt-engine-4.3.10.4-1.el7.noarch"), installed.end());

    // Tampered: the ovirt-4.3 repo's metadata regenerated without the newest engine, the old
    // signature left beside them, as a server that was broken into would serve them.
    fs::path tampered = tmp_.path() / "tampered";
    must({"cp", "-a", bundle.string(), tampered.string()});
    fs::path repo = tampered / "repos/ovirt-4.3";
    for (const auto& e : fs::directory_iterator(repo / "Packages"))
        if (e.path().filename().string().rfind("ovirt-engine-4.3.10.4", 0) == 0) fs::remove(e.path());
    fs::copy_file(repo / "repodata/repomd.xml.asc", tmp_.path() / "old.asc");
    must({"createrepo_c", "--quiet", "--database", repo.string()});
    fs::copy_file(tmp_.path() / "old.asc", repo / "repodata/repomd.xml.asc", fs::copy_options::overwrite_existing);
    ASSERT_NE(read_file(repo / "repodata/repomd.xml"), read_file(bundle / "repos/ovirt-4.3/repodata/repomd.xml"));
    HttpServer evil(tampered);
    fs::path evil_repos = served_repofile(bundle, evil.url(), "tampered");
    CommandResult refused = dnf_upgrade(evil_repos, "tampered");
    EXPECT_NE(refused.exit_code, 0) << refused.out << refused.err;
    EXPECT_TRUE(mentions(refused.out + refused.err, "signature")) << refused.out << refused.err;
    EXPECT_EQ(installed_nevras(last_root_), installed_nevras(inputs_.root));
    // The control: without repo_gpgcheck the same server is believed.
    CommandResult believed = dnf_upgrade(evil_repos, "tampered-unchecked", false);
    EXPECT_EQ(believed.exit_code, 0) << believed.out << believed.err;

    // Missing: the signature is not served at all.
    served.fail_with("/repos/ovirt-4.3/repodata/repomd.xml.asc", 404);
    CommandResult missing = dnf_upgrade(reposdir, "missing");
    EXPECT_NE(missing.exit_code, 0) << missing.out << missing.err;
    EXPECT_TRUE(mentions(missing.err, "signature")) << missing.err;
    EXPECT_EQ(installed_nevras(last_root_), installed_nevras(inputs_.root));
}

// The applier's own runs: the engine sequence's package manager reads the staged repos with
// repo_gpgcheck on and updates; a host's staged repo file keeps it on, so metadata changed on
// the medium after verification are refused.
TEST_F(RepodataSignE2E, TheApplierTurnsRepoGpgcheckOnAndTheUpdateStillGoesThrough) {
    // A bundle for the engine and a host: the applier stages a bundle only for its own roles.
    fs::path host_inventory = tmp_.path() / "host.inventory";
    CommandResult inv = run_command({binary("ovirt-applier").string(), "inventory", "--role", "host", "--root",
                                     (world_dir() / "roots/host-4.3.7").string(), "-o", host_inventory.string()});
    ASSERT_EQ(inv.exit_code, 0) << inv.err;
    fs::path bundle = tmp_.path() / "bundle";
    CommandResult b = build(bundle, {"--sign-repodata", secret_key().string(), "--inventory", host_inventory.string()});
    ASSERT_EQ(b.exit_code, 0) << b.out << b.err;

    fs::path engine = copy_world_root("engine-4.3.7", tmp_.path() / "engine");
    CommandResult e = run_command(applier_argv("engine", bundle, inputs_.cert, engine, tmp_.path() / "engine-state"));
    ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
    // dnf imported the carried key to check the metadata.
    EXPECT_NE((e.out + e.err).find("RPM-GPG-KEY-ovirt-airgap-repodata"), std::string::npos) << e.out << e.err;
    auto installed = installed_nevras(engine);
    EXPECT_NE(std::find(installed.begin(), installed.end(), "ovirt-engine-4.3.10.4-1.el7.noarch"), installed.end());

    fs::path host = copy_world_root("host-4.3.7", tmp_.path() / "host");
    CommandResult h = run_command(applier_argv("host", bundle, inputs_.cert, host, tmp_.path() / "host-state"));
    ASSERT_EQ(h.exit_code, 0) << h.out << h.err;
    fs::path reposdir = host / "etc/yum.repos.d";
    std::string repofile;
    for (const auto& f : fs::directory_iterator(reposdir))
        if (f.path().filename().string().rfind("ovirt-airgap-", 0) == 0) repofile = read_file(f.path());
    std::size_t sections = 0;
    for (auto at = repofile.find("\nrepo_gpgcheck=1\n"); at != std::string::npos;
         at = repofile.find("\nrepo_gpgcheck=1\n", at + 1))
        ++sections;
    EXPECT_EQ(sections, world_repos().size()) << repofile;
    auto makecache = [&](const std::string& name) {
        return run_command({(world_dir() / "bin" / "dnf").string(), "--installroot", host.string(),
                            "--setopt=reposdir=" + reposdir.string(),
                            "--setopt=cachedir=" + (tmp_.path() / ("cache-" + name)).string(), "--disablerepo=*",
                            "--enablerepo=ovirt-airgap-*", "-y", "makecache"});
    };
    CommandResult good = makecache("good");
    EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
    // The staged copy's metadata changed after staging (what a host reading them from a web
    // server would see if the server were not to be trusted).
    fs::path repomd;
    for (const auto& d : fs::directory_iterator(tmp_.path() / "host-state/staged"))
        if (fs::exists(d.path() / "repos/ovirt-4.3/repodata/repomd.xml"))
            repomd = d.path() / "repos/ovirt-4.3/repodata/repomd.xml";
    ASSERT_FALSE(repomd.empty());
    fs::permissions(repomd, fs::perms::owner_write, fs::perm_options::add);
    write_file(repomd, read_file(repomd) + "<!-- changed -->\n");
    CommandResult bad = makecache("changed");
    EXPECT_NE(bad.exit_code, 0) << bad.out << bad.err;
    EXPECT_TRUE(mentions(bad.err, "signature")) << bad.err;
}

TEST_F(RepodataSignE2E, AKeyThatCannotSignIsRefusedInOneLineBeforeAnyDownload) {
    fs::path home = tmp_.path() / "other-gnupg";
    fs::create_directories(home);
    fs::permissions(home, fs::perms::owner_all);
    auto gpg = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {"gpg", "--homedir", home.string(), "--batch", "--pinentry-mode", "loopback"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    // A public key only; an elliptic-curve key EL7's GnuPG 2.0 cannot verify; a protected key.
    ASSERT_EQ(gpg({"--import", secret_key().string()}).exit_code, 0);
    write_file(tmp_.path() / "public.asc", gpg({"--armor", "--export"}).out);
    ASSERT_EQ(gpg({"--passphrase", "", "--quick-gen-key", "ed25519 test", "ed25519", "sign", "never"}).exit_code, 0);
    write_file(tmp_.path() / "ed25519.asc",
               gpg({"--passphrase", "", "--armor", "--export-secret-keys", "ed25519 test"}).out);
    ASSERT_EQ(
        gpg({"--passphrase", "secret", "--quick-gen-key", "protected test", "rsa2048", "sign", "never"}).exit_code, 0);
    write_file(tmp_.path() / "protected.asc",
               gpg({"--passphrase", "secret", "--armor", "--export-secret-keys", "protected test"}).out);
    run_command({"gpgconf", "--homedir", home.string(), "--kill", "gpg-agent"});

    struct Case {
        std::string file, says;
    };
    for (const Case& c : {Case{"public.asc", "holds no secret key"}, Case{"ed25519.asc", "use an RSA key"},
                          Case{"protected.asc", "cannot sign"}, Case{"absent.asc", "no such file"}}) {
        server_->clear_requests();
        fs::path out = tmp_.path() / ("out-" + c.file);
        CommandResult r = build(out, {"--sign-repodata", (tmp_.path() / c.file).string()});
        EXPECT_EQ(r.exit_code, 1) << c.file << ": " << r.out << r.err;
        EXPECT_EQ(line_count(r.err), 1u) << r.err;
        EXPECT_NE(r.err.find("--sign-repodata " + (tmp_.path() / c.file).string() + ": "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
        EXPECT_TRUE(server_->requests().empty()) << c.file;
        EXPECT_FALSE(fs::exists(out));
    }
}

}  // namespace
