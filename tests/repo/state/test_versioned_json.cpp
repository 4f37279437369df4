#include "repo/state/versioned_json.hpp"

#include <gtest/gtest.h>

#include "repo/base/error.hpp"
#include "repo/state/atomic_file.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap;
using namespace airgap::repo;
using nlohmann::json;
using test::error_of;

namespace {

VersionedJsonFile widget_format() {
    return {"the widget file", "widget_version", 3, "move it aside", "use the applier that wrote it"};
}

class VersionedJson : public ::testing::Test {
protected:
    test::TempDir dir_;
    const fs::path file_ = dir_.path() / "widget.json";

    std::string refusal(const VersionedJsonFile& format = widget_format()) {
        return error_of<ConfigError>([&] { read_versioned_json(file_, format); }, EXIT_USAGE);
    }
};

}  // namespace

TEST_F(VersionedJson, AMissingFileIsNothingYet) {
    EXPECT_EQ(read_versioned_json(file_, widget_format()), std::nullopt);
}

TEST_F(VersionedJson, TheRightVersionGivesTheWholeObject) {
    write_file_atomic(file_, R"({"widget_version": 3, "parts": ["a", "b"]})");
    auto j = read_versioned_json(file_, widget_format());
    ASSERT_TRUE(j);
    EXPECT_EQ((*j)["parts"], json::array({"a", "b"}));
    EXPECT_EQ((*j)["widget_version"], 3);
}

TEST_F(VersionedJson, NotJsonIsDamagedWithTheAdvice) {
    write_file_atomic(file_, "{\"widget_version\": 3, \"par");
    EXPECT_EQ(refusal(), "the widget file " + file_.string() + " is damaged (not valid JSON): move it aside");
    VersionedJsonFile terse = widget_format();
    terse.names_the_damage = false;
    EXPECT_EQ(refusal(terse), "the widget file " + file_.string() + " is damaged: move it aside");
}

TEST_F(VersionedJson, NoIntegerVersionKeyIsRefused) {
    for (const std::string text : {R"({"parts": []})", R"([3])", R"("widget_version")", R"({"widget_version": "3"})",
                                   R"({"widget_version": 3.5})", R"({"state_version": 3})"}) {
        write_file_atomic(file_, text);
        EXPECT_EQ(refusal(), "the widget file " + file_.string() + " has no widget_version: move it aside") << text;
    }
}

TEST_F(VersionedJson, AnotherVersionNamesBothAndItsOwnAdvice) {
    write_file_atomic(file_, R"({"widget_version": 4, "parts": []})");
    EXPECT_EQ(refusal(),
              "the widget file " + file_.string() +
                  " has widget_version 4, but this ovirt-applier knows only 3: use the applier that wrote it");
    VersionedJsonFile one_advice = widget_format();
    one_advice.other_version_advice.clear();
    write_file_atomic(file_, R"({"widget_version": -3})");
    EXPECT_EQ(refusal(one_advice), "the widget file " + file_.string() +
                                       " has widget_version -3, but this ovirt-applier knows only 3: move it aside");
}

TEST_F(VersionedJson, DamageFoundByTheReaderIsWordedAlike) {
    EXPECT_EQ(damaged_versioned_json(file_, widget_format(), "parts is not an array").what(),
              "the widget file " + file_.string() + " is damaged (parts is not an array): move it aside");
    VersionedJsonFile terse = widget_format();
    terse.names_the_damage = false;
    EXPECT_EQ(damaged_versioned_json(file_, terse, "parts is not an array").what(),
              "the widget file " + file_.string() + " is damaged: move it aside");
}
