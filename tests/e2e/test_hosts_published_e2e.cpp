// `ovirt-applier hosts --root ENGINE` on an engine that publishes bundles: before the rollout,
// the Engine's own update check (the stand-in Engine's 885/839 events) must show that every host
// to upgrade sees the published bundle; the hosts that do not are named and nothing is upgraded.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/base/rfc3339.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "tests/shared/fake_engine.hpp"

namespace airgap::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// ROOT/var/www/html/ovirt-airgap/<id>/bundle.json and `current`, as `publish` leaves them
// (the rest of the tree does not matter to this check).
std::string publish_stub(const fs::path& root) {
    repo::BundleManifest m;
    m.id = repo::new_bundle_id();
    m.serial = 300;
    auto now = std::chrono::system_clock::now();
    m.created = repo::format_rfc3339(now - std::chrono::hours(1));
    m.expires = repo::format_rfc3339(now + std::chrono::hours(24));
    m.source_manifest = "test";
    m.roles = {"host"};
    m.target_versions = {{"host", {{"vdsm", "4.30.46-1.el7"}, {"vdsm-client", "4.30.46-1.el7"}}}};
    fs::path dir = root / "var/www/html/ovirt-airgap";
    write_file(dir / m.id / "bundle.json", repo::serialize_bundle_manifest(m));
    fs::create_directory_symlink(m.id, dir / "current");
    return m.id;
}

CommandResult run_hosts(const FakeEngine& engine, const fs::path& state, const fs::path& root,
                        std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"env", "OVIRT_AIRGAP_POLL_MS=20"};
    for (auto& a : engine.applier(state)) argv.push_back(a);
    argv.insert(argv.end(), {"--root", root.string(), "--timeout-min", "0.5"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv);
}

std::size_t upgrades_posted(const FakeEngine& engine) {
    std::size_t n = 0;
    for (const auto& e : engine.log())
        if (e.rfind("POST hosts/", 0) == 0 && e.size() > 8 && e.compare(e.size() - 8, 8, "/upgrade") == 0) ++n;
    return n;
}

TEST(HostsPublishedE2e, HostsThatDoNotSeeThePublishedBundleAreNamedAndNothingIsUpgraded) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["fault"] = "no_update";  // not enrolled: its yum sees nothing newer
    scenario["hosts"][1]["vdsm"] = "4.30.38-1.el7";
    scenario["hosts"][2]["fault"] = "check_failed";  // its yum fails (an upstream repo unreachable)
    FakeEngine engine(scenario);
    TempDir root, state;
    std::string id = publish_stub(root.path());
    CommandResult r = run_hosts(engine, state.path(), root.path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("not every host sees the published bundle " + id +
                         " (serial 300): host2 (its update "
                         "check found no update, with vdsm 4.30.38-1.el7 below the bundle's 4.30.46-1.el7); host3 "
                         "(its update check failed: "),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("host1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("ovirt-applier host --from-engine"), std::string::npos) << r.err;
    EXPECT_EQ(upgrades_posted(engine), 0u);
}

TEST(HostsPublishedE2e, HostsThatSeeItOrAreAtItsVersionAlreadyGoOnToTheRollout) {
    json scenario = three_host_scenario();
    scenario["hosts"][1]["fault"] = "no_update";  // upgraded before: at the bundle's version
    scenario["hosts"][1]["vdsm"] = "4.30.46-1.el7";
    scenario["hosts"][2]["update_packages"] = "ovirt-host, vdsm";
    FakeEngine engine(scenario);
    TempDir root, state;
    std::string id = publish_stub(root.path());
    CommandResult r = run_hosts(engine, state.path(), root.path(), {"--check-only"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "hosts see the published bundle " + id).size(), 1u) << r.out;
    EXPECT_EQ(upgrades_posted(engine), 0u);
    // Without a published bundle the check is not asked for.
    TempDir bare;
    CommandResult plain = run_hosts(engine, state.path(), bare.path(), {"--check-only"});
    EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
    EXPECT_TRUE(lines_with(plain.out, "see the published bundle").empty()) << plain.out;
}

TEST(HostsPublishedE2e, AFinishedRolloutRecordsThePublishedBundleTheHostsNowRun) {
    FakeEngine engine(three_host_scenario());
    TempDir root, state;
    std::string id = publish_stub(root.path());
    CommandResult r = run_hosts(engine, state.path(), root.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(upgrades_posted(engine), 3u);
    json rolled = json::parse(read_file(state.path() / "rolled-out.json"));
    EXPECT_EQ(rolled["id"], id);
    EXPECT_EQ(rolled["serial"], 300);
}

}  // namespace
}  // namespace airgap::test
