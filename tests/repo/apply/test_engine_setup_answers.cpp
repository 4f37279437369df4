#include "repo/apply/engine_setup_answers.hpp"

#include <gtest/gtest.h>

using namespace airgap::repo;

TEST(EngineSetupAnswers, KeysOfEveryEnvironmentSectionOnly) {
    auto keys = otopi_answer_keys(
        "# site answers\n"
        "[environment:default]\n"
        "OVESETUP_CORE/engineStop=bool:False\n"
        "; a comment\n"
        "OVESETUP_CONFIG/fqdn : str:engine.example\n"
        "[environment:enforce]\n"
        "OSETUP_RPMDISTRO/requireRollback=bool:False\n"
        "[other]\n"
        "NOT/an=answer\n");
    EXPECT_EQ(keys, (std::set<std::string>{"OVESETUP_CORE/engineStop", "OVESETUP_CONFIG/fqdn",
                                           "OSETUP_RPMDISTRO/requireRollback"}));
}

TEST(EngineSetupAnswers, LeavesOutWhatTheAdministratorSets) {
    std::string all = engine_setup_answers();
    EXPECT_NE(all.find("OSETUP_RPMDISTRO/requireRollback=bool:True\n"), std::string::npos);
    std::string some = engine_setup_answers({"OSETUP_RPMDISTRO/requireRollback"});
    EXPECT_EQ(some.find("requireRollback=bool"), std::string::npos);
    EXPECT_NE(some.find("OVESETUP_CORE/engineStop=bool:True\n"), std::string::npos);
    EXPECT_EQ(otopi_answer_keys(some).count("OSETUP_RPMDISTRO/requireRollback"), 0u);
}
