// The Engine client against the stand-in Engine: SSO, TLS trust, string-typed values,
// re-authentication, dropped connections, logout.
#include "repo/hosts/engine_api.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "repo/base/error.hpp"
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

// A VM's status is parsed once; the API's word stays for messages.
TEST(EngineApi, VmStatusWordsAreParsedOnce) {
    const std::pair<const char*, VmStatus> words[] = {{"up", VmStatus::up},
                                                      {"down", VmStatus::down},
                                                      {"migrating", VmStatus::migrating},
                                                      {"powering_up", VmStatus::other},
                                                      {"Up", VmStatus::other}};
    for (const auto& [word, status] : words) EXPECT_EQ(parse_vm_status(word), status) << word;
    EngineVm v = parse_vm(json{{"id", "1"}, {"name", "vm1"}, {"status", "paused"}});
    EXPECT_EQ(v.status, VmStatus::other);
    EXPECT_EQ(v.status_text, "paused");
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

// The typed calls parse what the Engine renders once: statuses, types, affinity, event index.
TEST(EngineApi, TypedCallsParseHostsVmsEventsAndTheVersion) {
    json scenario = test::three_host_scenario();
    scenario["hosts"][1]["type"] = "ovirt_node";
    scenario["hosts"][2]["status"] = "install_failed";
    scenario["vms"][2]["user_migratable"] = true;
    scenario["version"] = "4.3.6.7";
    FakeEngine engine(scenario);
    EngineClient client(connect_to(engine));
    EXPECT_EQ(engine_version(client).text(), "4.3.6.7");
    EXPECT_TRUE(engine_version(client).at_least(4, 3, 6, 6));
    EXPECT_FALSE(engine_version(client).at_least(4, 3, 7));
    auto clusters = list_clusters(client, "Default");
    ASSERT_EQ(clusters.size(), 1u);
    auto hosts = list_hosts(client, clusters[0]);
    ASSERT_EQ(hosts.size(), 3u);
    EXPECT_EQ(hosts[0].status, HostStatus::up);
    EXPECT_TRUE(hosts[0].spm);
    EXPECT_FALSE(hosts[0].node);
    EXPECT_TRUE(hosts[1].node);
    EXPECT_EQ(hosts[2].status, HostStatus::install_failed);
    EXPECT_EQ(hosts[2].status_text, "install_failed");
    EXPECT_EQ(parse_host_status("connecting"), HostStatus::other);
    auto vms = running_vms(client, "host2");
    ASSERT_EQ(vms.size(), 1u);
    EXPECT_EQ(vms[0].affinity, EngineVm::Affinity::user_migratable);
    EXPECT_TRUE(vms[0].non_migratable_reason().empty());  // it moves when asked
    EXPECT_EQ(vms[0].host_id, hosts[1].id);

    std::int64_t before = newest_event_index(client);
    EXPECT_EQ(before, 4711);
    check_host_updates(client, hosts[2].id);  // InstallFailed: 884, then 887 at once
    auto events = events_after(client, before);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].index, 4712);
    EXPECT_EQ(events[0].code, 884);
    EXPECT_EQ(events[1].code, 887);
    EXPECT_EQ(events[1].host_id, hosts[2].id);
    EXPECT_EQ(newest_event_index(client), 4713);
}

// `index` orders events; `id` is only an identifier.
TEST(EngineApi, EventsAreOrderedByIndex) {
    json e = {{"id", "zz-1"}, {"index", "42"}, {"code", "888"}, {"description", "d"}, {"host", {{"id", "h"}}}};
    EngineEvent ev = parse_event(e);
    EXPECT_EQ(ev.index, 42);
    EXPECT_EQ(ev.code, 888);
    EXPECT_EQ(ev.host_id, "h");
}

}  // namespace
}  // namespace airgap::repo
