#include "repo/apply/publish.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
using namespace airgap::test;
namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::system_clock;

namespace {

const fs::path& cert_dir() {
    static TempDir dir;
    static bool made = false;
    if (!made) write_key_pair(dir.path() / "k", generate_key(KeyType::ecdsa_p256, "test publisher", 30));
    made = true;
    return dir.path();
}
fs::path key() { return cert_dir() / "k/signing-key.pem"; }
fs::path cert() { return cert_dir() / "k/signing-cert.pem"; }

// A small signed bundle for `roles`: one repo with a package, repodata and a key.
fs::path make_bundle(const fs::path& dir, std::uint64_t serial, std::vector<std::string> roles = {"engine", "host"}) {
    write_file(dir / "repos/r1/Packages/a-1-1.noarch.rpm", std::string(10000, 'a') + std::to_string(serial));
    write_file(dir / "repos/r1/repodata/repomd.xml", "<repomd/>\n");
    write_file(dir / "keys/RPM-GPG-KEY-test", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n");
    BundleManifest m;
    m.id = new_bundle_id();
    m.serial = serial;
    m.created = format_rfc3339(system_clock::now() - hours(1));
    m.expires = format_rfc3339(system_clock::now() + hours(24 * 30));
    m.source_manifest = "test";
    m.roles = roles;
    for (const auto& r : roles) m.target_versions[r] = {{"a", "1-1"}};
    m.repos = {{"r1", "Repo one", "repos/r1", {"keys/RPM-GPG-KEY-test"}}};
    for (const std::string f :
         {"keys/RPM-GPG-KEY-test", "repos/r1/Packages/a-1-1.noarch.rpm", "repos/r1/repodata/repomd.xml"}) {
        FileDigest d = hash_file(dir / f);
        m.files.push_back({f, d.size, d.sha256});
    }
    m.packages = {{"repos/r1/Packages/a-1-1.noarch.rpm", "a-1-1.noarch", "r1", "update"}};
    write_file(dir / "bundle.json", serialize_bundle_manifest(m));
    auto sig = sign_detached(dir / "bundle.json", key(), cert());
    std::ofstream(dir / "bundle.json.p7s", std::ios::binary)
        .write(reinterpret_cast<const char*>(sig.data()), static_cast<std::streamsize>(sig.size()));
    return dir;
}

std::string id_of(const fs::path& bundle) { return parse_bundle_manifest(read_file(bundle / "bundle.json")).id; }

struct PublishTest : ::testing::Test {
    fs::path publish(const fs::path& bundle, unsigned keep = 1) {
        PublishOptions o;
        o.bundle = bundle;
        o.trust = cert();
        o.root = tmp.path() / "engine";
        o.state_dir = tmp.path() / "state";
        o.keep = keep;
        return publish_bundle(o, reporter);
    }
    fs::path pub() const { return publish_dir(tmp.path() / "engine"); }
    std::vector<std::string> published_ids() {
        std::vector<std::string> ids;
        for (const auto& b : list_published(tmp.path() / "engine")) ids.push_back(b.id);
        return ids;
    }
    TempDir tmp;
    Reporter reporter;
};

TEST_F(PublishTest, ABundleIsPublishedReadOnlyWithItsSignatureAndCurrentPointsAtIt) {
    fs::path b = make_bundle(tmp.path() / "b1", 100);
    fs::path dir = publish(b);
    EXPECT_EQ(dir, pub() / id_of(b));
    EXPECT_EQ(fs::read_symlink(pub() / "current"), fs::path(id_of(b)));
    EXPECT_EQ(read_file(dir / "bundle.json"), read_file(b / "bundle.json"));
    EXPECT_EQ(read_file(dir / "bundle.json.p7s"), read_file(b / "bundle.json.p7s"));
    EXPECT_EQ(read_file(dir / "repos/r1/Packages/a-1-1.noarch.rpm"),
              read_file(b / "repos/r1/Packages/a-1-1.noarch.rpm"));
    EXPECT_EQ(fs::status(dir / "repos/r1/Packages/a-1-1.noarch.rpm").permissions(), fs::perms(0444));
    EXPECT_EQ(fs::status(dir / "repos/r1").permissions(), fs::perms(0555));
    // Nothing half-built is left beside it.
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(pub())) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    std::vector<std::string> expected{id_of(b), "current"};  // a random id: sorted like the names
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(names, expected);
    auto lines = describe_published(tmp.path() / "engine");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find("published: " + id_of(b) + " (serial 100, expires "), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find("(current)"), std::string::npos) << lines[1];
}

TEST_F(PublishTest, KeepNLeavesTheNewestOlderBundlesAndNeverTheCurrentOne) {
    fs::path b1 = make_bundle(tmp.path() / "b1", 100), b2 = make_bundle(tmp.path() / "b2", 200),
             b3 = make_bundle(tmp.path() / "b3", 300);
    publish(b1);
    publish(b2);
    EXPECT_EQ(published_ids(), (std::vector<std::string>{id_of(b2), id_of(b1)}));
    publish(b3);
    EXPECT_EQ(published_ids(), (std::vector<std::string>{id_of(b3), id_of(b2)}));
    publish(b3, 0);  // the current bundle again: replaced in place, still current
    EXPECT_EQ(published_ids(), (std::vector<std::string>{id_of(b3)}));
    EXPECT_EQ(fs::read_symlink(pub() / "current"), fs::path(id_of(b3)));
}

TEST_F(PublishTest, TheBundleTheHostsWereLastRolledOutToAndNewerOnesAreNeverRemoved) {
    fs::path b1 = make_bundle(tmp.path() / "b1", 100), b2 = make_bundle(tmp.path() / "b2", 200),
             b3 = make_bundle(tmp.path() / "b3", 300);
    publish(b1);
    publish(b2);
    record_rolled_out(tmp.path() / "state", id_of(b1), 100);  // b2 is published, not rolled out yet
    publish(b3, 0);
    EXPECT_EQ(published_ids(), (std::vector<std::string>{id_of(b3), id_of(b2), id_of(b1)}));
    record_rolled_out(tmp.path() / "state", id_of(b3), 300);
    fs::path b4 = make_bundle(tmp.path() / "b4", 400);
    publish(b4, 0);
    EXPECT_EQ(published_ids(), (std::vector<std::string>{id_of(b4), id_of(b3)}));
}

TEST_F(PublishTest, ATamperedBundleARollbackAndABundleWithoutHostsChangeNothing) {
    fs::path b1 = make_bundle(tmp.path() / "b1", 100), b2 = make_bundle(tmp.path() / "b2", 200);
    publish(b2);
    std::string rollback = error_of<BundleRefused>([&] { publish(b1); });
    EXPECT_NE(rollback.find("is not newer than the published current bundle " + id_of(b2)), std::string::npos)
        << rollback;
    fs::path b3 = make_bundle(tmp.path() / "b3", 300);
    write_file(b3 / "repos/r1/Packages/a-1-1.noarch.rpm", std::string(10003, 'x'));
    EXPECT_NE(error_of<BundleRefused>([&] { publish(b3); }), "<no exception>");
    fs::path engine_only = make_bundle(tmp.path() / "b4", 400, {"engine"});
    EXPECT_NE(error_of<BundleRefused>([&] { publish(engine_only); }).find("nothing for hosts"), std::string::npos);
    EXPECT_EQ(published_ids(), (std::vector<std::string>{id_of(b2)}));
    EXPECT_EQ(fs::read_symlink(pub() / "current"), fs::path(id_of(b2)));
    EXPECT_FALSE(fs::exists(pub() / ".staging"));
}

}  // namespace
