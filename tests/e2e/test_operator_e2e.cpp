// What an operator meets. Inputs checked early, each answered in one line before anything is
// downloaded or changed: a repo's unreadable gpgkey, an -o name that is neither an archive nor
// an explicit directory, a package manager that does not exist, a run that needs root. And the
// medium checked with coreutils and openssl alone; a signing key kept under a passphrase.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/shared/http_server.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

// The world's repos over HTTP, a signing key, and the bundler's command lines against them.
class OperatorBundler : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        server_ = std::make_unique<HttpServer>(world_dir() / "repos");
        must({binary("ovirt-bundler").string(), "keygen", "--out", (tmp_.path() / "keys").string()});
    }

    // ovirt-bundler COMMAND -m MANIFEST --repo-url ... --cache DIR --role engine ARGS...
    CommandResult bundler(const std::string& command, const fs::path& manifest, std::vector<std::string> args) {
        std::vector<std::string> argv = {binary("ovirt-bundler").string(), command, "-m", manifest.string()};
        for (const auto& arg : world_repo_url_args(server_->url())) argv.push_back(arg);
        argv.insert(argv.end(), {"--cache", (tmp_.path() / "cache").string(), "--role", "engine"});
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }

    CommandResult build(const fs::path& manifest, const std::string& out, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {
            "--sign-key", (tmp_.path() / "keys/signing-key.pem").string(), "--sign-cert", cert().string(), "-o", out};
        args.insert(args.end(), extra.begin(), extra.end());
        return bundler("build", manifest, args);
    }

    fs::path cert() const { return tmp_.path() / "keys/signing-cert.pem"; }

    // The world's manifest with every gpgkey replaced by `key`.
    fs::path manifest_with_gpgkey(const std::string& key) {
        std::string text = read_file(world_dir() / "manifest.yaml");
        text = std::regex_replace(text, std::regex("gpgkey: [^\n]*"), "gpgkey: " + key);
        fs::path file = tmp_.path() / "manifest.yaml";
        write_file(file, text);
        return file;
    }

    TempDir tmp_;
    std::unique_ptr<HttpServer> server_;
};

TEST_F(OperatorBundler, AGpgkeyThatCannotBeReadFailsResolveAndBuildBeforeAnyDownload) {
    const fs::path gone = tmp_.path() / "RPM-GPG-KEY-gone";
    fs::path manifest = manifest_with_gpgkey("file://" + gone.string());
    const std::string line = "ovirt-bundler: error: repo centos-base: gpgkey file://" + gone.string() +
                             ": cannot read " + gone.string() + ": No such file or directory\n";
    for (const std::string command : {"resolve", "build"}) {
        CommandResult r = command == "resolve" ? bundler("resolve", manifest, {})
                                               : build(manifest, (tmp_.path() / "out.iso").string());
        EXPECT_EQ(r.exit_code, 1) << command;
        EXPECT_EQ(r.err, line) << command;
        EXPECT_EQ(server_->requests(), std::vector<std::string>{}) << command << ": nothing is downloaded";
    }
    EXPECT_FALSE(fs::exists(tmp_.path() / "out.iso"));

    // A file that is no key is found as early.
    write_file(gone, "not a key\n");
    CommandResult r = bundler("resolve", manifest, {});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-bundler: error: repo centos-base: gpgkey file://" + gone.string() +
                         ": not an armored PGP public key\n");
    EXPECT_EQ(server_->requests(), std::vector<std::string>{});
}

TEST_F(OperatorBundler, AnOutputNameIsAnArchiveOrAnExplicitDirectoryNeverAGuess) {
    fs::path manifest = world_dir() / "manifest.yaml";
    for (const std::string name : {"x.zip", "x.tgz", "x", "x.iso.d"}) {
        const std::string out = (tmp_.path() / name).string();
        CommandResult r = build(manifest, out);
        EXPECT_EQ(r.exit_code, 1) << name;
        EXPECT_EQ(r.err, "ovirt-bundler: error: output " + out +
                             ": the name must end in .iso or .tar, or in / for a directory\n");
        EXPECT_FALSE(fs::exists(out)) << name;
    }
    EXPECT_EQ(server_->requests(), std::vector<std::string>{});

    // An upper-case extension is understood: an ISO 9660 image that xorriso reads.
    const fs::path iso = tmp_.path() / "X.ISO";
    CommandResult r = build(manifest, iso.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::is_regular_file(iso));
    CommandResult x = run_command({"xorriso", "-indev", iso.string(), "-find", "/bundle.json"});
    EXPECT_EQ(x.exit_code, 0) << x.err;
    EXPECT_NE(x.out.find("/bundle.json"), std::string::npos) << x.out;
}

// The README's check of a medium: take it off the ISO with xorriso, verify bundle.json's
// signature with openssl, then every file with sha256sum -c.
TEST_F(OperatorBundler, TheMediumCarriesSha256sumsListedInTheSignedBundleJson) {
    const fs::path iso = tmp_.path() / "bundle.iso";
    CommandResult r = build(world_dir() / "manifest.yaml", iso.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path medium = tmp_.path() / "medium";
    must({"xorriso", "-osirrox", "on", "-indev", iso.string(), "-extract", "/", medium.string()});
    CommandResult cms = openssl({"cms", "-verify", "-binary", "-inform", "DER", "-content",
                                 (medium / "bundle.json").string(), "-in", (medium / "bundle.json.p7s").string(),
                                 "-CAfile", cert().string(), "-purpose", "any", "-out", "/dev/null"});
    EXPECT_EQ(cms.exit_code, 0) << cms.err;
    CommandResult sums =
        run_command({"sh", "-c", "cd \"$1\" && sha256sum --check --strict SHA256SUMS", "sh", medium.string()});
    EXPECT_EQ(sums.exit_code, 0) << sums.out << sums.err;

    // Every file bundle.json lists but SHA256SUMS itself is in it, and bundle.json pins it.
    nlohmann::json manifest = nlohmann::json::parse(read_file(medium / "bundle.json"));
    std::size_t listed = 0;
    bool pinned = false;
    for (const auto& f : manifest["files"]) {
        if (f["path"] == "SHA256SUMS") {
            pinned = f["sha256"] == sha256sum(medium / "SHA256SUMS");
            continue;
        }
        ++listed;
        EXPECT_NE(sums.out.find(f["path"].get<std::string>() + ": OK\n"), std::string::npos) << f["path"];
    }
    EXPECT_TRUE(pinned) << "bundle.json lists SHA256SUMS with its digest";
    EXPECT_EQ(line_count(sums.out), listed);
}

TEST_F(OperatorBundler, APassphraseProtectedSigningKeyWorksWithSignPassFile) {
    const fs::path protected_key = tmp_.path() / "keys/protected-key.pem", pass = tmp_.path() / "pass";
    write_file(pass, "correct horse\n");
    must({"openssl", "pkey", "-in", (tmp_.path() / "keys/signing-key.pem").string(), "-aes256", "-passout",
          "file:" + pass.string(), "-out", protected_key.string()});
    auto build_with = [&](const std::string& out, std::vector<std::string> extra) {
        std::vector<std::string> args = {"--sign-key", protected_key.string(),      "--sign-cert", cert().string(),
                                         "-o",         (tmp_.path() / out).string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return bundler("build", world_dir() / "manifest.yaml", args);
    };
    CommandResult r = build_with("no-pass.tar", {});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-bundler: error: signing key " + protected_key.string() +
                         " is protected by a passphrase: give it with --sign-pass-file\n");
    EXPECT_EQ(server_->requests(), std::vector<std::string>{}) << "refused before any download";

    r = build_with("signed.tar", {"--sign-pass-file", pass.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    CommandResult v = run_binary("ovirt-applier", {"verify", (tmp_.path() / "signed.tar").string(), "--trust",
                                                   cert().string(), "--state-dir", (tmp_.path() / "state").string()});
    EXPECT_EQ(v.exit_code, 0) << v.err;
}

// The table of `resolve` for two machines, against what --json and real dnf say.
TEST_F(OperatorBundler, TheResolveTableFitsEightyColumnsAndSpeaksAsDnf) {
    std::vector<std::string> args;
    for (const std::string role : {"engine", "host"}) {
        fs::path root = copy_world_root(role + "-4.3.7", tmp_.path());
        fs::path inventory = tmp_.path() / (role + ".inventory");
        must({binary("ovirt-applier").string(), "inventory", "--role", role, "--root", root.string(), "-o",
              inventory.string()});
        args.insert(args.end(), {"--inventory", inventory.string()});
    }
    std::vector<std::string> argv = {binary("ovirt-bundler").string(), "resolve", "-m",
                                     (world_dir() / "manifest.yaml").string()};
    for (const auto& arg : world_repo_url_args(server_->url())) argv.push_back(arg);
    argv.insert(argv.end(), {"--cache", (tmp_.path() / "cache").string()});
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult table = run_command(argv);
    ASSERT_EQ(table.exit_code, 0) << table.err;
    argv.push_back("--json");
    CommandResult json = run_command(argv);
    ASSERT_EQ(json.exit_code, 0) << json.err;

    for (const auto& line : lines_of(table.out)) EXPECT_LE(line.size(), 80u) << line;
    EXPECT_TRUE(std::regex_search(
        table.out, std::regex("\nUpgrading:\n( [^\n]*\n)* ovirt-engine +noarch +4\\.3\\.7\\.2-1\\.el7 -> "
                              "4\\.3\\.10\\.4-1\\.el7 +ovirt-4\\.3 ")))
        << table.out;
    EXPECT_NE(table.out.find("\nInstalling:\n kernel "), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("\nInstalling dependencies:\n ovirt-engine-wildfly-overlay"), std::string::npos);
    EXPECT_NE(table.out.find("\nRollback: "), std::string::npos) << table.out;
    // dnf replaces the old SDK by obsoletes on the same root; the table says so as dnf does.
    EXPECT_NE(table.out.find("     replacing  python-ovirt-engine-sdk4-4.3.2-1.el7.x86_64\n"), std::string::npos);
    std::vector<std::string> dnf = world_dnf(copy_world_root("engine-4.3.7", tmp_.path() / "dnf"));
    dnf.insert(dnf.end(), {"upgrade", "--assumeno"});
    CommandResult d = run_command(dnf);
    EXPECT_NE(d.out.find("replacing  python-ovirt-engine-sdk4"), std::string::npos) << d.out;

    // One summary per machine; the total counted by the reasons --json gives.
    std::size_t summaries = 0;
    for (const auto& line : lines_of(table.out)) summaries += line.rfind("Summary: ", 0) == 0;
    EXPECT_EQ(summaries, 2u) << table.out;
    std::map<std::string, int> reasons;
    auto packages = nlohmann::json::parse(json.out)["packages"];
    for (const auto& p : packages) ++reasons[p["reason"].get<std::string>()];
    std::string total = "Total: " + std::to_string(packages.size()) + " packages (" +
                        std::to_string(reasons["update"]) + " update, " + std::to_string(reasons["dependency"]) +
                        " dependency, " + std::to_string(reasons["rollback"]) + " rollback)";
    EXPECT_EQ(lines_of(table.out).back().rfind(total, 0), 0u) << lines_of(table.out).back() << " vs " << total;
}

// A build that stops half-way keeps what it downloaded: the next run fetches only the rest and
// says the others came from the cache.
TEST_F(OperatorBundler, AStoppedBuildKeepsItsDownloadsAndTheNextRunFetchesOnlyTheRest) {
    const std::string broken = "/ovirt-4.3/Packages/ovirt-engine-4.3.10.4-1.el7.noarch.rpm";
    server_->cut_after(broken, 3000);
    const fs::path out = tmp_.path() / "bundle.tar";
    CommandResult r = build(world_dir() / "manifest.yaml", out.string());
    ASSERT_NE(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(out));

    server_->clear_faults();
    server_->clear_requests();
    r = build(world_dir() / "manifest.yaml", out.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> packages;
    for (const auto& path : server_->requests())
        if (path.find("/Packages/") != std::string::npos) packages.push_back(path);
    EXPECT_EQ(packages, std::vector<std::string>{broken});
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"((\d+) of (\d+) packages \([^)]*\) taken from the cache)")))
        << r.err;
    EXPECT_EQ(std::stoi(m[1]) + 1, std::stoi(m[2])) << r.err;
}

// A stand-in target that must stay as it is.
std::string listing(const fs::path& dir) {
    std::string out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) out += e.path().string() + "\n";
    return out;
}

TEST(OperatorApplier, APackageManagerThatDoesNotExistIsRefusedBeforeAnyChange) {
    TempDir t;
    write_file(t.path() / "root/etc/yum.repos.d/CentOS-Base.repo", "[base]\n");
    const std::string before = listing(t.path());
    for (const std::vector<std::string>& command : {std::vector<std::string>{"engine"}, {"host", "--update"}}) {
        std::vector<std::string> argv = {binary("ovirt-applier").string()};
        argv.insert(argv.end(), command.begin(), command.end());
        argv.insert(argv.end(), {"b.iso", "--trust", "t.pem", "--root", (t.path() / "root").string(), "--state-dir",
                                 (t.path() / "state").string(), "--package-manager", "/nonexistent/yum -q"});
        CommandResult r = run_command(argv);
        EXPECT_EQ(r.exit_code, 1) << command[0];
        EXPECT_EQ(r.err,
                  "ovirt-applier: error: --package-manager: '/nonexistent/yum' is neither an executable file nor a "
                  "command on PATH\n");
        EXPECT_EQ(listing(t.path()), before) << "nothing written, not even the state dir";
    }
    // A command on PATH is found there.
    CommandResult r = run_binary("ovirt-applier", {"engine", "b.iso", "--trust", "t.pem", "--root",
                                                   (t.path() / "root").string(), "--package-manager", "true"});
    EXPECT_EQ(r.err.find("--package-manager"), std::string::npos) << r.err;
}

TEST(OperatorApplier, ChangingThisSystemWithoutRootSaysSo) {
    // As an unprivileged user: setpriv drops root when the tests run as root.
    std::vector<std::string> prefix;
    if (::geteuid() == 0) prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    auto as_user = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = prefix;
        argv.push_back(binary("ovirt-applier").string());
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    for (const std::string command : {"engine", "host"}) {
        CommandResult r = as_user({command, "/nonexistent/b.iso", "--trust", "/nonexistent/t.pem"});
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_EQ(r.err, "ovirt-applier: error: ovirt-applier " + command +
                             " changes this system: run it as root (or give --root DIR for a system installed in "
                             "DIR)\n");
    }
    // A dry run changes nothing: it goes on (to the missing bundle).
    CommandResult r = as_user(
        {"engine", "/nonexistent/b.iso", "--trust", "/nonexistent/t.pem", "--dry-run", "--package-manager", "true"});
    EXPECT_EQ(r.err.find("run it as root"), std::string::npos) << r.err;
}

}  // namespace
