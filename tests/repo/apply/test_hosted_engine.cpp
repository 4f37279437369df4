#include "repo/apply/hosted_engine_private.hpp"

#include <gtest/gtest.h>

#include <map>

#include "tests/shared/testkit.hpp"

using namespace airgap::repo;

namespace {

// A database answering he.py's three queries from fixed rows; records what was asked.
struct FakeDb {
    std::string option;                        // HostedEngineVmName, empty: unset
    std::map<std::string, std::string> vms;    // name -> "guid|run_on_vds"
    std::map<std::string, std::string> maint;  // vds_id -> t/f
    std::vector<std::string> asked;
    std::string operator()(const std::string& sql) {
        asked.push_back(sql);
        auto literal = [&] {
            auto end = sql.rfind('\'');
            auto begin = sql.rfind('\'', end - 1);
            return sql.substr(begin + 1, end - begin - 1);
        };
        if (sql.find("from vdc_options") != std::string::npos) return option.empty() ? "" : option + "\n";
        if (sql.find("from vms") != std::string::npos) {
            auto it = vms.find(literal());
            return it == vms.end() ? "" : it->second + "\n";
        }
        auto it = maint.find(literal());
        return it == maint.end() ? "" : it->second + "\n";
    }
};

std::optional<std::string> ask(FakeDb& db) {
    return hosted_engine_refusal([&](const std::string& sql) { return db(sql); });
}

}  // namespace

TEST(HostedEngine, NoHostedEngineVmIsNoHostedEngine) {
    FakeDb db;
    EXPECT_FALSE(ask(db));
    EXPECT_NE(db.asked.at(1).find("vm_name = 'HostedEngine'"), std::string::npos);
}

TEST(HostedEngine, RefusedUnlessItsHostIsInGlobalMaintenance) {
    FakeDb db;
    db.option = "he";
    db.vms["he"] = "guid-1|host-1";
    db.maint["host-1"] = "f";
    auto why = ask(db);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("he runs on host host-1"), std::string::npos) << *why;
    db.maint["host-1"] = "t";
    EXPECT_FALSE(ask(db));
    db.maint.clear();  // no statistics row: he.py shows the error
    EXPECT_TRUE(ask(db));
}

TEST(HostedEngine, AVmThatRunsNowhereKnownIsRefused) {
    FakeDb db;
    db.vms["HostedEngine"] = "guid-1|";
    EXPECT_TRUE(ask(db));
}

TEST(HostedEngine, LiteralsAreQuoted) { EXPECT_EQ(sql_literal("it's"), "'it''s'"); }

TEST(HostedEngine, DatabaseFromTheEngineConfigurationLaterFilesWin) {
    airgap::test::TempDir t;
    EXPECT_FALSE(engine_database(t.path()));
    airgap::test::write_file(t.path() / "etc/ovirt-engine/engine.conf.d/10-setup-database.conf",
                             "ENGINE_DB_HOST=\"db.example\"\nENGINE_DB_PORT=\"5432\"\nENGINE_DB_USER=\"engine\"\n"
                             "ENGINE_DB_PASSWORD=\"one\"\nENGINE_DB_DATABASE=\"engine\"\n");
    airgap::test::write_file(t.path() / "etc/ovirt-engine/engine.conf.d/20-other.conf",
                             "# x\nENGINE_DB_PASSWORD=\"two\"\n");
    auto db = engine_database(t.path());
    ASSERT_TRUE(db);
    EXPECT_EQ(db->host, "db.example");
    EXPECT_EQ(db->password, "two");
}
