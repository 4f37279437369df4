// End to end: `ovirt-bundler build` from the test world served over HTTP, for the inventory of
// a 4.3.7 engine root, to a directory, an .iso and a .tar; then the checks a security officer
// and an administrator would make with real peers: openssl verifies the signature, xorriso and
// bsdtar read the media, every file matches bundle.json, and dnf updates a copy of the root
// offline from the bundle alone, with gpgcheck on, to what a connected update reaches.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "repo/archive/sha256.hpp"
#include "repo/state/atomic_file.hpp"
#include "tests/shared/http_server.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

std::string last_line(const std::string& text) {
    auto lines = lines_of(text);
    return lines.empty() ? "" : lines.back();
}

// Every entry of `dir` (recursive) as relative paths, files only.
std::set<std::string> files_under(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.insert(e.path().lexically_relative(dir).generic_string());
    return out;
}

class BuildE2E : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        server_ = std::make_unique<HttpServer>(world_dir() / "repos");
        EngineBuildInputs in = engine_build_inputs(tmp_.path());
        root_ = in.root;
        inventory_ = in.inventory;
    }

    fs::path key() const { return tmp_.path() / "keys" / "signing-key.pem"; }
    fs::path cert() const { return tmp_.path() / "keys" / "signing-cert.pem"; }

    // ovirt-bundler build -m WORLD/manifest.yaml --repo-url ID=http://... --inventory INV ... -o OUT
    CommandResult build(const fs::path& out, const std::vector<std::string>& extra = {}) {
        return run_command(build_argv(out, extra));
    }

    std::vector<std::string> build_argv(const fs::path& out, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv = {binary("ovirt-bundler").string(), "build", "-m",
                                         (world_dir() / "manifest.yaml").string()};
        for (const auto& arg : world_repo_url_args(server_->url())) argv.push_back(arg);
        argv.insert(argv.end(), {"--cache", (tmp_.path() / "cache").string(), "--inventory", inventory_.string(),
                                 "--sign-key", key().string(), "--sign-cert", cert().string(), "-o", out.string()});
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }

    // Nothing named like the output (the output itself or a temp beside it) is in its directory.
    void expect_nothing_at(const fs::path& out) {
        EXPECT_FALSE(fs::exists(out));
        for (const auto& e : fs::directory_iterator(out.parent_path()))
            EXPECT_EQ(e.path().filename().string().find(out.stem().string()), std::string::npos)
                << "left behind: " << e.path();
    }

    TempDir tmp_;
    std::unique_ptr<HttpServer> server_;
    fs::path root_;
    fs::path inventory_;
};

nlohmann::json bundle_json(const fs::path& dir) { return nlohmann::json::parse(read_file(dir / "bundle.json")); }

// What a security officer checks on an unpacked bundle: the signature with openssl, every file
// against bundle.json, and nothing unlisted.
void check_unpacked(const fs::path& dir, const fs::path& cert) {
    CommandResult v = run_command({"openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content",
                                   (dir / "bundle.json").string(), "-in", (dir / "bundle.json.p7s").string(), "-CAfile",
                                   cert.string(), "-purpose", "any", "-out", "/dev/null"});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    nlohmann::json j = bundle_json(dir);
    EXPECT_EQ(j["format"], "ovirt-airgap-bundle/1");
    std::set<std::string> listed = {"bundle.json", "bundle.json.p7s"};
    for (const auto& f : j["files"]) {
        std::string path = f["path"];
        listed.insert(path);
        auto digest = airgap::repo::hash_file(dir / path);
        EXPECT_EQ(digest.size, f["size"].get<std::uint64_t>()) << path;
        EXPECT_EQ(digest.sha256, f["sha256"].get<std::string>()) << path;
    }
    EXPECT_EQ(files_under(dir), listed);
}

// One .repo file with a section per bundle repo, gpgcheck on with the bundle's keys.
fs::path write_bundle_repofile(const fs::path& bundle, const fs::path& reposdir) {
    nlohmann::json j = bundle_json(bundle);
    std::string text;
    for (const auto& r : j["repos"]) {
        text += "[bundle-" + r["id"].get<std::string>() + "]\nname=bundle " + r["id"].get<std::string>() +
                "\nbaseurl=file://" + (bundle / r["path"].get<std::string>()).string() + "\ngpgcheck=1\ngpgkey=";
        for (const auto& k : r["gpgkeys"]) text += "file://" + (bundle / k.get<std::string>()).string() + " ";
        text += "\nenabled=1\n\n";
    }
    write_file(reposdir / "bundle.repo", text);
    return reposdir;
}

}  // namespace

TEST_F(BuildE2E, DirectoryBundleIsSignedCompleteAndUpdatesTheEngineOffline) {
    fs::path out = tmp_.path() / "bundle";
    CommandResult r = build(out.string() + "/");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    check_unpacked(out, cert());
    EXPECT_EQ(fs::status(out).permissions() & fs::perms::all, fs::perms(0755));

    nlohmann::json j = bundle_json(out);
    EXPECT_EQ(j["source_manifest"], "airgap-world-4.3-el7");
    EXPECT_EQ(j["roles"], nlohmann::json::array({"engine"}));
    EXPECT_EQ(j["target_versions"]["engine"]["ovirt-engine"], "4.3.10.4-1.el7");
    std::map<std::string, std::string> reasons;
    for (const auto& p : j["packages"]) reasons[p["nevra"]] = p["reason"];
    // The rollback set: the installed engine and setup packages, still upstream.
    EXPECT_EQ(reasons["ovirt-engine-4.3.7.2-1.el7.noarch"], "rollback");
    EXPECT_EQ(reasons["ovirt-engine-setup-4.3.7.2-1.el7.noarch"], "rollback");
    // ... and every installed package engine-setup's own upgrade changes (it upgrades
    // ovirt-web-ui, which nothing requires and `yum update` would also take).
    EXPECT_EQ(reasons["ovirt-web-ui-1.6.0-1.el7.noarch"], "rollback");
    EXPECT_EQ(reasons.count("ovirt-engine-4.3.10.4-1.el7.noarch"), 1u);
    // Traps: includepkgs and multilib.
    EXPECT_EQ(reasons.count("python-jinja2-2.10.1-2.el7.noarch"), 0u);
    for (const auto& [nevra, reason] : reasons) EXPECT_EQ(nevra.find(".i686"), std::string::npos) << nevra;
    // EL7 yum reads the sqlite databases; updateinfo is carried where upstream has one.
    std::string repomd = read_file(out / "repos/centos-updates/repodata/repomd.xml");
    EXPECT_NE(repomd.find("primary_db"), std::string::npos);
    EXPECT_NE(repomd.find("updateinfo"), std::string::npos);
    EXPECT_TRUE(fs::exists(out / "keys/RPM-GPG-KEY-airgap-world"));

    // Each package's dependencies are met by the bundle plus upstream.
    std::vector<std::string> closure = {"dnf",
                                        "--disableplugin=local",
                                        "--releasever",
                                        "7",
                                        "repoclosure",
                                        "--setopt=reposdir=/nonexistent",
                                        "--setopt=cachedir=" + (tmp_.path() / "dnfcache").string()};
    for (const auto& repo : world_repos()) {
        closure.push_back("--repofrompath=bundle-" + repo + "," + (out / "repos" / repo).string());
        closure.push_back("--repofrompath=world-" + repo + "," + (world_dir() / "repos" / repo).string());
        closure.push_back("--check=bundle-" + repo);
    }
    CommandResult c = run_command(closure);
    EXPECT_EQ(c.exit_code, 0) << c.out << c.err;

    // Offline update from the bundle alone, gpgcheck on with the bundle's keys.
    fs::create_directories(tmp_.path() / "offline");
    fs::create_directories(tmp_.path() / "connected");
    fs::path offline = copy_world_root("engine-4.3.7", tmp_.path() / "offline");
    fs::path reposdir = write_bundle_repofile(out, tmp_.path() / "reposdir");
    CommandResult u = run_command({(world_dir() / "bin" / "dnf").string(), "--installroot", offline.string(),
                                   "--setopt=reposdir=" + reposdir.string(), "upgrade", "-y"});
    ASSERT_EQ(u.exit_code, 0) << u.out << u.err;
    // The same update with the world's repos (connected).
    EXPECT_EQ(installed_nevras(offline), connected_upgrade("engine-4.3.7", tmp_.path() / "connected"));
    EXPECT_NE(installed_nevras(offline), installed_nevras(root_));

    // inspect shows it, and says it did not verify.
    CommandResult i = run_binary("ovirt-bundler", {"inspect", out.string()});
    EXPECT_EQ(i.exit_code, 0) << i.err;
    EXPECT_NE(i.out.find("id:       " + j["id"].get<std::string>()), std::string::npos) << i.out;
    EXPECT_NE(i.out.find("CN=ovirt-airgap bundle signing (not verified: use ovirt-applier verify)"), std::string::npos)
        << i.out;
    CommandResult ij = run_binary("ovirt-bundler", {"inspect", out.string(), "--json"});
    ASSERT_EQ(ij.exit_code, 0) << ij.err;
    nlohmann::json summary = nlohmann::json::parse(ij.out);
    EXPECT_EQ(summary["serial"], j["serial"]);
    EXPECT_EQ(summary["signer"]["verified"], false);
    std::size_t counted = 0;
    for (const auto& repo : summary["repos"]) counted += repo["packages"].get<std::size_t>();
    EXPECT_EQ(counted, j["packages"].size());
}

// A repo that cannot be reached is never left out quietly, even with skip_if_unavailable
// (ovirt-release43 sets it on ovirt-4.3): build refuses in one line unless this build allows
// that repo to be missing.
TEST_F(BuildE2E, AnUnreachableRepoRefusesTheBuildUnlessAllowedMissing) {
    fs::path repofile = tmp_.path() / "extra.repo";
    write_file(repofile,
               "[extra-unreachable]\nname=nothing answers here\nbaseurl=http://127.0.0.1:1/extra/\n"
               "skip_if_unavailable=1\ngpgcheck=0\n");
    fs::path out = tmp_.path() / "refused";
    CommandResult refused = build(out.string() + "/", {"--repofile", repofile.string()});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(last_line(refused.err).find("--allow-missing-repo extra-unreachable"), std::string::npos) << refused.err;
    expect_nothing_at(out);

    fs::path allowed = tmp_.path() / "allowed";
    CommandResult r =
        build(allowed.string() + "/", {"--repofile", repofile.string(), "--allow-missing-repo", "extra-unreachable"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("repo extra-unreachable is missing from this bundle"), std::string::npos) << r.err;
    check_unpacked(allowed, cert());
}

// Two bundlers on one cache (a cron job and an administrator) would write the same metadata and
// the same package's .part file under each other: the second waits, says for whom, and then
// builds a good bundle.
TEST_F(BuildE2E, ASecondBundlerWaitsForTheCacheAndThenBuilds) {
    fs::path cache = tmp_.path() / "cache";
    fs::create_directories(cache);
    auto held = std::make_unique<airgap::repo::FileLock>(cache / "lock");  // as another bundler holds it
    fs::path out = tmp_.path() / "waited";
    StartedCommand second =
        start_command(build_argv(out.string() + "/"), tmp_.path() / "second.out", tmp_.path() / "second.err");
    const std::string waiting = "waiting for another ovirt-bundler that uses the cache " + cache.string() + " (pid " +
                                std::to_string(::getpid()) + ") to finish";
    bool said = false;
    for (int i = 0; i < 600 && !said; ++i) {
        said = read_file(second.err).find(waiting) != std::string::npos;
        if (!said) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(said) << read_file(second.err);
    // While it waits it has fetched nothing into the cache and written no output.
    EXPECT_FALSE(fs::exists(cache / "packages"));
    EXPECT_FALSE(fs::exists(out));
    held.reset();
    CommandResult r = second.wait();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    check_unpacked(out, cert());
}

TEST_F(BuildE2E, IsoIsReadByXorrisoAndBsdtarAndVerifies) {
    fs::path out = tmp_.path() / "bundle.iso";
    CommandResult r = build(out, {"--serial", "7", "--expires-days", "30"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    CommandResult x = run_command({"xorriso", "-indev", out.string(), "-find", "/", "-type", "f"});
    ASSERT_EQ(x.exit_code, 0) << x.err;
    EXPECT_NE(x.out.find("'/bundle.json'"), std::string::npos) << x.out;
    EXPECT_NE(x.out.find("'/bundle.json.p7s'"), std::string::npos) << x.out;
    EXPECT_NE(x.out.find("/repos/ovirt-4.3/Packages/ovirt-engine-4.3.10.4-1.el7.noarch.rpm"), std::string::npos);
    CommandResult label = run_command({"xorriso", "-indev", out.string(), "-pvd_info"});
    EXPECT_NE((label.out + label.err).find("AIRGAP_WORLD_4_3_EL7_4_3_10_4"), std::string::npos)
        << label.out << label.err;

    CommandResult t = run_command({"bsdtar", "-tf", out.string()});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("bundle.json.p7s"), std::string::npos);
    fs::path dir = tmp_.path() / "extracted";
    fs::create_directories(dir);
    CommandResult e = run_command({"bsdtar", "-xf", out.string(), "-C", dir.string()});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    check_unpacked(dir, cert());
    nlohmann::json j = bundle_json(dir);
    EXPECT_EQ(j["serial"], 7);

    CommandResult i = run_binary("ovirt-bundler", {"inspect", out.string()});
    EXPECT_EQ(i.exit_code, 0) << i.err;
    EXPECT_NE(i.out.find("serial:   7\n"), std::string::npos) << i.out;
}

TEST_F(BuildE2E, TarListsEveryFileAndVerifies) {
    fs::path out = tmp_.path() / "bundle.tar";
    CommandResult r = build(out, {"--jobs", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    CommandResult t = run_command({"bsdtar", "-tf", out.string()});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    fs::path dir = tmp_.path() / "extracted";
    fs::create_directories(dir);
    CommandResult e = run_command({"bsdtar", "-xf", out.string(), "-C", dir.string()});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    check_unpacked(dir, cert());
    std::set<std::string> listed;
    for (const auto& line : lines_of(t.out))
        if (line.back() != '/') listed.insert(line);
    EXPECT_EQ(listed, files_under(dir));
}

TEST_F(BuildE2E, RefusesAnExistingOutputWithOneLine) {
    fs::path out = tmp_.path() / "bundle.iso";
    write_file(out, "precious");
    CommandResult r = build(out);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err,
              "ovirt-bundler: error: output " + out.string() + " already exists; choose another path or remove it\n");
    EXPECT_EQ(read_file(out), "precious");
    EXPECT_TRUE(server_->requests().empty());
}

TEST_F(BuildE2E, RefusesAKeyThatDoesNotMatchTheCertificateBeforeDownloading) {
    CommandResult k = run_binary("ovirt-bundler", {"keygen", "--out", (tmp_.path() / "other").string()});
    ASSERT_EQ(k.exit_code, 0) << k.err;
    fs::path out = tmp_.path() / "bundle.iso";
    std::vector<std::string> argv = {binary("ovirt-bundler").string(),
                                     "build",
                                     "-m",
                                     (world_dir() / "manifest.yaml").string(),
                                     "--inventory",
                                     inventory_.string(),
                                     "--sign-key",
                                     key().string(),
                                     "--sign-cert",
                                     (tmp_.path() / "other" / "signing-cert.pem").string(),
                                     "-o",
                                     out.string()};
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("ovirt-bundler: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
    expect_nothing_at(out);
}

TEST_F(BuildE2E, CorruptPackageFromTheMirrorFailsAndLeavesNothing) {
    server_->serve_bytes("/ovirt-4.3/Packages/ovirt-engine-4.3.10.4-1.el7.noarch.rpm", "not the rpm you wanted");
    fs::path out = tmp_.path() / "bundle.iso";
    CommandResult r = build(out);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::string line = last_line(r.err);
    EXPECT_EQ(line.rfind("ovirt-bundler: error: ", 0), 0u) << r.err;
    EXPECT_NE(line.find("ovirt-engine-4.3.10.4-1.el7"), std::string::npos) << r.err;
    expect_nothing_at(out);
    // The same for a directory output.
    fs::path dir = tmp_.path() / "bundle";
    CommandResult d = build(dir.string() + "/");
    EXPECT_EQ(d.exit_code, 1) << d.err;
    expect_nothing_at(dir);
}

TEST_F(BuildE2E, UnsignedPackageInAGpgcheckRepoFailsAndIsNamed) {
    // A mirror whose ovirt-4.3 repo carries an unsigned build (its metadata matches it).
    fs::path mirror = tmp_.path() / "mirror";
    CommandResult cp = run_command({"cp", "-a", (world_dir() / "repos").string(), mirror.string()});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    fs::path rpm = mirror / "ovirt-4.3/Packages/ovirt-engine-4.3.10.4-1.el7.noarch.rpm";
    CommandResult del = run_command({"rpmsign", "--delsign", rpm.string()});
    ASSERT_EQ(del.exit_code, 0) << del.out << del.err;
    CommandResult cr = run_command({"createrepo_c", "--quiet", "--update", (mirror / "ovirt-4.3").string()});
    ASSERT_EQ(cr.exit_code, 0) << cr.err;
    server_ = std::make_unique<HttpServer>(mirror);

    fs::path out = tmp_.path() / "bundle.tar";
    CommandResult r = build(out);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::string line = last_line(r.err);
    EXPECT_EQ(line.rfind("ovirt-bundler: error: ", 0), 0u) << r.err;
    EXPECT_NE(line.find("ovirt-engine-4.3.10.4-1.el7.noarch.rpm"), std::string::npos) << r.err;
    EXPECT_NE(line.find("not signed"), std::string::npos) << r.err;
    expect_nothing_at(out);
}
