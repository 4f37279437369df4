// The site config /etc/ovirt-airgap/applier.conf (inside --root, or --config FILE): the long
// options a site gives every run, with the command line winning.
#include <gtest/gtest.h>

#include <string>

#include "tests/shared/fake_engine.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

fs::path write_config(const fs::path& root, const std::string& text) {
    fs::path file = root / "etc/ovirt-airgap/applier.conf";
    write_file(file, text);
    return file;
}

TEST(SiteConfig, StatusTakesTheStateDirFromTheConfigUnderRoot) {
    TempDir t;
    write_config(t.path(), "# the site's state lives elsewhere\nstate-dir = /srv/airgap-state\n");
    CommandResult r = run_binary("ovirt-applier", {"status", "--root", t.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines_of(r.out).front(), "no run recorded in " + (t.path() / "srv/airgap-state").string());
    // The command line wins.
    r = run_binary("ovirt-applier",
                   {"status", "--root", t.path().string(), "--state-dir", (t.path() / "mine").string()});
    EXPECT_EQ(lines_of(r.out).front(), "no run recorded in " + (t.path() / "mine").string());
}

TEST(SiteConfig, AnUnknownKeyOrAMissingConfigIsOneUsageErrorLine) {
    TempDir t;
    fs::path file = write_config(t.path(), "trust = /etc/pki/airgap.pem\nengine_url = https://e/api\n");
    CommandResult r = run_binary("ovirt-applier", {"status", "--root", t.path().string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-applier: error: " + file.string() +
                         ":2: unknown key 'engine_url' (the keys are trust, engine-url, user, password-file, "
                         "ca-file, state-dir)\n");
    r = run_binary("ovirt-applier", {"status", "--config", (t.path() / "none.conf").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-applier: error: cannot read the site config " + (t.path() / "none.conf").string() + "\n");
}

TEST(SiteConfig, WithoutTrustAnywhereVerifySaysWhereItCanBeGiven) {
    TempDir t;
    CommandResult r = run_binary("ovirt-applier", {"verify", "b.iso", "--root", t.path().string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err,
              "ovirt-applier: error: --trust is required (or 'trust = CERT' in "
              "/etc/ovirt-airgap/applier.conf)\n");
}

TEST(SiteConfig, HostsTakesTheEngineConnectionFromTheConfigAndTheCommandLineWins) {
    FakeEngine engine(three_host_scenario());
    TempDir t;
    // Relative paths are relative to the config's directory.
    fs::copy_file(engine.password_file(), t.path() / "password");
    fs::path config = t.path() / "applier.conf";
    write_file(config, "engine-url = " + engine.url() + "\nuser = admin@internal\npassword-file = password\n" +
                           "ca-file = " + engine.ca_file().string() + "\n");
    auto hosts = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv = {"env",
                                         "OVIRT_AIRGAP_POLL_MS=20",
                                         binary("ovirt-applier").string(),
                                         "hosts",
                                         "--config",
                                         config.string(),
                                         "--check-only",
                                         "--timeout-min",
                                         "0.05"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv);
    };
    CommandResult r = hosts({});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(lines_with(r.out, "check only").size(), 1u) << r.out;
    EXPECT_EQ(engine.log().front(), "login");
    // A CA on the command line replaces the config's: the Engine's certificate is then refused.
    r = hosts({"--ca-file", engine.untrusted_ca_file().string()});
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
}

}  // namespace
