#include "repo/apply/publish.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "repo/base/error.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "tests/shared/small_bundle.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
using namespace airgap::test;
namespace fs = std::filesystem;

namespace {

fs::path cert() { return test_signer("publisher").cert; }

// A small bundle for `roles` signed by the publisher, its package's bytes different for each serial.
fs::path make_bundle(const fs::path& dir, std::uint64_t serial, std::vector<std::string> roles = {"engine", "host"}) {
    BundleSpec spec;
    spec.serial = serial;
    spec.signer = "publisher";
    spec.roles = std::move(roles);
    spec.package = std::string(10000, 'a') + std::to_string(serial);
    return make_small_bundle(dir, spec);
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
