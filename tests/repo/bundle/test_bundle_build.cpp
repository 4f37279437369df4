// repo/bundle_build: the early refusals of build_bundle (nothing written, nothing downloaded)
// and inspect_bundle (repo/bundle/bundle_inspect.hpp) over directories and tar archives. The whole
// build against real signed repos is tests/e2e/test_build_e2e.cpp.
#include "repo/bundle/bundle_build.hpp"
#include "repo/bundle/bundle_inspect.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "repo/archive/archive.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap;
using airgap::test::error_of;
using airgap::test::TempDir;

namespace {

repo::KeyPairFiles make_keys(const fs::path& dir, const std::string& cn) {
    return repo::write_key_pair(dir, repo::generate_key(repo::KeyType::ecdsa_p256, cn, 10));
}

// A request whose manifest does not exist: anything reaching the plan step fails differently.
repo::BuildRequest request(const TempDir& tmp, const repo::KeyPairFiles& keys) {
    repo::BuildRequest r;
    r.plan.manifest = tmp.path() / "no-such-manifest.yaml";
    r.plan.cache_dir = tmp.path() / "cache";
    r.sign_key = keys.key;
    r.sign_cert = keys.cert;
    r.output = tmp.path() / "out.iso";
    return r;
}

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// A small bundle tree by hand: two repos, three packages, signed.
fs::path make_bundle_dir(const fs::path& dir, const repo::KeyPairFiles& keys) {
    write(dir / "repos/a/Packages/x-1-1.noarch.rpm", std::string(100, 'x'));
    write(dir / "repos/a/Packages/y-1-1.noarch.rpm", std::string(50, 'y'));
    write(dir / "repos/b/Packages/z-2-1.x86_64.rpm", std::string(7, 'z'));
    write(dir / "repos/a/repodata/repomd.xml", "<repomd/>");
    write(dir / "repos/b/repodata/repomd.xml", "<repomd/>");
    write(dir / "keys/KEY", "key");
    repo::BundleManifest m;
    m.id = repo::new_bundle_id();
    m.serial = 42;
    m.created = "2026-11-25T10:00:00Z";
    m.expires = "2027-02-23T10:00:00Z";
    m.source_manifest = "test-manifest";
    m.roles = {"engine"};
    m.target_versions = {{"engine", {{"ovirt-engine", "4.3.10.4-1.el7"}}}};
    m.repos = {{"a", "Repo A", "repos/a", {"keys/KEY"}}, {"b", "Repo B", "repos/b", {}}};
    for (const char* f :
         {"repos/a/Packages/x-1-1.noarch.rpm", "repos/a/Packages/y-1-1.noarch.rpm", "repos/b/Packages/z-2-1.x86_64.rpm",
          "repos/a/repodata/repomd.xml", "repos/b/repodata/repomd.xml", "keys/KEY"}) {
        auto d = repo::hash_file(dir / f);
        m.files.push_back({f, d.size, d.sha256});
    }
    m.packages = {{"repos/a/Packages/x-1-1.noarch.rpm", "x-1-1.noarch", "a", "update"},
                  {"repos/a/Packages/y-1-1.noarch.rpm", "y-1-1.noarch", "a", "rollback"},
                  {"repos/b/Packages/z-2-1.x86_64.rpm", "z-2-1.x86_64", "b", "dependency"}};
    repo::write_file_atomic(dir / "bundle.json", repo::serialize_bundle_manifest(m));
    auto sig = repo::sign_detached(dir / "bundle.json", keys.key, keys.cert);
    repo::write_file_atomic(dir / "bundle.json.p7s", std::string(sig.begin(), sig.end()));
    return dir;
}

void expect_summary(const repo::BundleSummary& s) {
    EXPECT_EQ(s.manifest.serial, 42u);
    EXPECT_EQ(s.manifest.source_manifest, "test-manifest");
    EXPECT_EQ(s.signer_subject, "CN=bundle test signer");
    EXPECT_EQ(s.signature_problem, "");
    ASSERT_EQ(s.repos.size(), 2u);
    EXPECT_EQ(s.repos[0].id, "a");
    EXPECT_EQ(s.repos[0].packages, 2u);
    EXPECT_EQ(s.repos[0].package_bytes, 150u);
    EXPECT_EQ(s.repos[1].id, "b");
    EXPECT_EQ(s.repos[1].packages, 1u);
    EXPECT_EQ(s.repos[1].package_bytes, 7u);
    EXPECT_EQ(s.total_bytes, 100u + 50u + 7u + 9u + 9u + 3u);
}

}  // namespace

TEST(BuildBundle, RefusesAnExistingOutputBeforeAnythingElse) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "k");
    auto r = request(tmp, keys);
    write(r.output, "precious");
    EXPECT_EQ(error_of<ConfigError>([&] { repo::build_bundle(r); }),
              "output " + r.output.string() + " already exists; choose another path or remove it");
    std::ifstream in(r.output);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
    EXPECT_FALSE(fs::exists(tmp.path() / "cache"));
}

TEST(BuildBundle, RefusesAnExistingOutputDirectory) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "k");
    auto r = request(tmp, keys);
    r.output = tmp.path() / "outdir/";
    fs::create_directories(r.output);
    EXPECT_NE(error_of<ConfigError>([&] { repo::build_bundle(r); }).find("already exists"), std::string::npos);
    EXPECT_TRUE(fs::is_empty(r.output));
}

TEST(BuildBundle, RefusesAKeyThatDoesNotMatchTheCertificateBeforeDownloading) {
    TempDir tmp;
    auto one = make_keys(tmp.path() / "one", "one");
    auto two = make_keys(tmp.path() / "two", "two");
    auto r = request(tmp, one);
    r.sign_cert = two.cert;
    std::string err = error_of<ConfigError>([&] { repo::build_bundle(r); });
    EXPECT_NE(err.find("does not match"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(r.output));
    EXPECT_FALSE(fs::exists(tmp.path() / "cache"));
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 2);  // one/, two/
}

TEST(BuildBundle, RefusesAnUnreadableKey) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "k");
    auto r = request(tmp, keys);
    r.sign_key = tmp.path() / "missing.pem";
    std::string err = error_of<ConfigError>([&] { repo::build_bundle(r); });
    EXPECT_NE(err.find("missing.pem"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(r.output));
}

TEST(BuildBundle, AnUnusableSinceIsRefusedBeforeDownloading) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "k");
    auto r = request(tmp, keys);
    fs::path missing = tmp.path() / "old.iso";
    r.since = missing;
    EXPECT_EQ(error_of<ConfigError>([&] { repo::build_bundle(r); }),
              "--since " + missing.string() + ": bundle " + missing.string() + " does not exist");
    fs::create_directories(tmp.path() / "empty");
    r.since = tmp.path() / "empty";
    EXPECT_EQ(error_of<ConfigError>([&] { repo::build_bundle(r); }),
              "--since " + r.since.string() + ": " + r.since.string() + " is not a bundle: no bundle.json");
    write(tmp.path() / "bad/bundle.json", "{\"format\": \"ovirt-airgap-bundle/1\"}");
    r.since = tmp.path() / "bad";
    EXPECT_EQ(error_of<ConfigError>([&] { repo::build_bundle(r); }),
              "--since " + r.since.string() + ": bad bundle manifest: id is missing");
    r.since = make_bundle_dir(tmp.path() / "old", keys);
    r.serial = 42;
    EXPECT_EQ(error_of<ConfigError>([&] { repo::build_bundle(r); }),
              "--serial 42 is not greater than serial 42 of the --since bundle");
    EXPECT_FALSE(fs::exists(r.output));
}

TEST(BuildBundle, RefusesOutOfRangeOptions) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "k");
    auto r = request(tmp, keys);
    r.expires_days = 0;
    EXPECT_EQ(error_of<ConfigError>([&] { repo::build_bundle(r); }), "--expires-days must be between 1 and 3650");
    r.expires_days = 90;
    r.jobs = 0;
    EXPECT_EQ(error_of<ConfigError>([&] { repo::build_bundle(r); }), "--jobs must be between 1 and 64");
}

TEST(InspectBundle, ReadsADirectory) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "bundle test signer");
    fs::path dir = make_bundle_dir(tmp.path() / "bundle", keys);
    expect_summary(repo::inspect_bundle(dir));
}

// A directory's bundle.json of 3 GiB is refused in one line, not read into memory.
TEST(InspectBundle, AHugeBundleJsonIsRefusedUnread) {
    test::TempDir t;
    test::write_file(t.path() / "b/bundle.json", "{");
    fs::resize_file(t.path() / "b/bundle.json", 3ull << 30);
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::read_bundle_json(t.path() / "b"); }),
              "bundle.json in " + (t.path() / "b").string() + " is too large (3221225472 bytes, at most 67108864)");
}

TEST(InspectBundle, ReadsATarAndAnIso) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "bundle test signer");
    fs::path dir = make_bundle_dir(tmp.path() / "bundle", keys);
    repo::write_tar(dir, tmp.path() / "b.tar");
    repo::write_iso(dir, tmp.path() / "b.iso", "TEST");
    expect_summary(repo::inspect_bundle(tmp.path() / "b.tar"));
    expect_summary(repo::inspect_bundle(tmp.path() / "b.iso"));
}

TEST(InspectBundle, SaysWhenTheSignatureIsUnreadable) {
    TempDir tmp;
    auto keys = make_keys(tmp.path() / "keys", "bundle test signer");
    fs::path dir = make_bundle_dir(tmp.path() / "bundle", keys);
    write(dir / "bundle.json.p7s", "garbage");
    auto s = repo::inspect_bundle(dir);
    EXPECT_EQ(s.signer_subject, "");
    EXPECT_NE(s.signature_problem, "");
    EXPECT_EQ(s.manifest.serial, 42u);
}

TEST(InspectBundle, RefusesWhatIsNoBundle) {
    TempDir tmp;
    EXPECT_EQ(error_of<ConfigError>([&] { repo::inspect_bundle(tmp.path() / "nothing"); }),
              "bundle " + (tmp.path() / "nothing").string() + " does not exist");
    EXPECT_EQ(error_of<ConfigError>([&] { repo::inspect_bundle(tmp.path()); }),
              tmp.path().string() + " is not a bundle: no bundle.json");
}
