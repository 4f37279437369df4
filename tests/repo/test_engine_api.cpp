// The Engine client against the stand-in Engine: SSO, TLS trust, string-typed values,
// re-authentication, dropped connections, logout.
#include "repo/engine_api.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "repo/error.hpp"
#include "tests/shared/fake_engine.hpp"

namespace airgap::repo {
namespace {

using nlohmann::json;
using test::error_of;
using test::FakeEngine;

EngineConnection connect_to(const FakeEngine& engine) {
    EngineConnection c;
    c.url = engine.url();
    c.user = "admin@internal";
    c.password_file = engine.password_file();
    c.ca_file = engine.ca_file();
    c.retry_delay = std::chrono::milliseconds(50);
    return c;
}

std::size_t count(const std::vector<std::string>& log, const std::string& entry) {
    return static_cast<std::size_t>(std::count(log.begin(), log.end(), entry));
}

TEST(EngineApi, LogsInListsHostsAndLogsOut) {
    FakeEngine engine(test::three_host_scenario());
    {
        EngineClient client(connect_to(engine));
        auto hosts = client.list("hosts", "host", "cluster=Default");
        ASSERT_EQ(hosts.size(), 3u);
        EXPECT_EQ(json_string(hosts[0], "name"), "host1");
        EXPECT_EQ(json_string(hosts[0]["spm"], "status"), "spm");
        EXPECT_EQ(json_int(hosts[0], "max_scheduling_memory"), 32LL << 30);
        EXPECT_FALSE(json_bool(hosts[0], "update_available", true));
        EXPECT_EQ(client.api_url(), engine.url());
    }
    auto log = engine.log();
    EXPECT_EQ(count(log, "login"), 1u);
    EXPECT_EQ(count(log, "logout"), 1u);
    EXPECT_EQ(log.back(), "logout");
}

TEST(EngineApi, AcceptsStringAndNativeValues) {
    json j = {{"a", "true"}, {"b", false}, {"n", "4294967296"}, {"m", 42}, {"bad", "maybe"}, {"s", 7}};
    EXPECT_TRUE(json_bool(j, "a"));
    EXPECT_FALSE(json_bool(j, "b", true));
    EXPECT_TRUE(json_bool(j, "missing", true));
    EXPECT_EQ(json_int(j, "n"), 4294967296LL);
    EXPECT_EQ(json_int(j, "m"), 42);
    EXPECT_EQ(json_int(j, "missing", -1), -1);
    EXPECT_EQ(json_string(j, "s"), "7");
    EXPECT_EQ(error_of<StepFailed>([&] { json_bool(j, "bad"); }), "the Engine sent 'bad': \"maybe\", not a boolean");
    EXPECT_THROW(json_int(j, "a"), StepFailed);
}

TEST(EngineApi, EmptyCollectionIsAnEmptyList) {
    FakeEngine engine(test::three_host_scenario());
    EngineClient client(connect_to(engine));
    EXPECT_TRUE(client.list("vms", "vm", "host=host3").empty());
    EXPECT_EQ(client.list("vms", "vm", "host=host1").size(), 2u);
}

TEST(EngineApi, UntrustedCertificateIsAConfigError) {
    FakeEngine engine(test::three_host_scenario());
    EngineConnection c = connect_to(engine);
    c.ca_file = engine.untrusted_ca_file();
    EngineClient client(c);
    EXPECT_EQ(error_of<ConfigError>([&] { client.get("hosts"); }),
              "TLS: certificate of " + engine.engine() + " not trusted by " + engine.untrusted_ca_file().string());
    EXPECT_TRUE(engine.log().empty());  // the password never left
}

TEST(EngineApi, WrongPasswordIsRefused) {
    FakeEngine engine(test::three_host_scenario());
    test::TempDir dir;
    EngineConnection c = connect_to(engine);
    c.password_file = dir.path() / "wrong";
    std::ofstream(c.password_file) << "not-the-password\n";
    EngineClient client(c);
    EXPECT_EQ(error_of<ConfigError>([&] { client.get("hosts"); }),
              "the Engine " + engine.engine() +
                  " refused the login of admin@internal: Cannot authenticate user 'admin@internal': The username or "
                  "password is incorrect..");
}

TEST(EngineApi, BadConfigurationIsRefusedBeforeConnecting) {
    FakeEngine engine(test::three_host_scenario());
    EngineConnection c = connect_to(engine);
    c.url = "http://" + engine.engine() + "/ovirt-engine/api";
    EXPECT_EQ(error_of<ConfigError>([&] { EngineClient{c}; }),
              "bad --engine-url '" + c.url + "': expected https://ENGINE/ovirt-engine/api");
    c = connect_to(engine);
    c.password_file = "/nonexistent/password";
    EXPECT_EQ(error_of<ConfigError>([&] { EngineClient{c}; }),
              "cannot read the password file /nonexistent/password: No such file or directory");
    c = connect_to(engine);
    c.user = "admin";
    EXPECT_THROW(EngineClient{c}, ConfigError);
    EXPECT_TRUE(engine.log().empty());
}

TEST(EngineApi, BareEngineUrlGetsTheApiPath) {
    FakeEngine engine(test::three_host_scenario());
    EngineConnection c = connect_to(engine);
    c.url = "https://" + engine.engine();
    EngineClient client(c);
    EXPECT_EQ(client.api_url(), engine.url());
    EXPECT_EQ(client.list("clusters", "cluster").size(), 1u);
}

TEST(EngineApi, ExpiredTokenLogsInAgainOnce) {
    FakeEngine engine(test::three_host_scenario());
    EngineClient client(connect_to(engine));
    client.get("hosts");
    engine.control({{"expire_tokens", true}});
    EXPECT_EQ(client.list("hosts", "host").size(), 3u);
    auto log = engine.log();
    EXPECT_EQ(count(log, "login"), 2u);
    EXPECT_EQ(count(log, "401 GET /ovirt-engine/api/hosts"), 1u);
}

TEST(EngineApi, DroppedConnectionsAreRetried) {
    FakeEngine engine(test::three_host_scenario());
    EngineClient client(connect_to(engine));
    client.get("hosts");
    engine.control({{"drop", 2}});
    EXPECT_EQ(client.list("hosts", "host").size(), 3u);
    EXPECT_EQ(count(engine.log(), "dropped GET /ovirt-engine/api/hosts"), 2u);
}

TEST(EngineApi, EngineGoneAfterContactIsAFailedStep) {
    FakeEngine engine(test::three_host_scenario());
    EngineClient client(connect_to(engine));
    client.get("hosts");
    engine.control({{"drop_all", true}});
    std::string what = error_of<StepFailed>([&] { client.get("hosts"); });
    EXPECT_EQ(what.rfind("cannot reach the Engine " + engine.engine() + " (GET hosts): ", 0), 0u) << what;
}

TEST(EngineApi, EngineFaultsAreReported) {
    FakeEngine engine(test::three_host_scenario());
    EngineClient client(connect_to(engine));
    EXPECT_EQ(error_of<StepFailed>([&] { client.post("hosts/nonexistent/upgrade"); }),
              "the Engine answered POST hosts/nonexistent/upgrade with HTTP 404: Not found");
}

}  // namespace
}  // namespace airgap::repo
